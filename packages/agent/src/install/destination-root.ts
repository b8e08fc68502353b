/**
 * Where an AppSpec path lands on this host. Normally an absolute destination or permission object is
 * itself; with the agent's `destination_root` it is placed under that folder instead, so that many
 * simulated hosts can deploy `/var/www` side by side on one machine.
 */
import path from 'node:path';

/**
 * hostPath resolves an AppSpec `files[].destination` or `permissions[].object`:
 * `hostPath('/var/www')` is `/var/www`; `hostPath('/var/www', '/sim/host-7')` is `/sim/host-7/var/www`.
 */
export function hostPath(appSpecPath: string, destinationRoot?: string): string {
  const resolved = path.resolve(appSpecPath);
  return destinationRoot === undefined ? resolved : path.resolve(path.join(destinationRoot, resolved));
}
