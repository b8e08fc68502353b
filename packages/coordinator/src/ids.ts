/**
 * Identifiers in CodeDeploy's formats: deployment ids are `d-` and nine upper-case letters or digits;
 * application, group and configuration ids are UUIDs.
 */
import crypto from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** newDeploymentId makes an id such as `d-7K2Q9ZB1X`. */
export function newDeploymentId(): string {
  const bytes = crypto.randomBytes(9);
  let id = 'd-';
  for (const b of bytes) id += ALPHABET[b % ALPHABET.length];
  return id;
}

/** newUuid makes a random UUID. */
export function newUuid(): string {
  return crypto.randomUUID();
}
