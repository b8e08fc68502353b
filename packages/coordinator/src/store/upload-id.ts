/**
 * A multipart upload's id: 24 random bytes in base64url, never starting with `-`. An id that did
 * (one in 64) was read by the stock AWS CLI as an option, so `aws s3api upload-part --upload-id -…`
 * failed with "expected one argument".
 */
import { randomBytes } from 'node:crypto';

/** newUploadId draws ids from `random` until one does not start with `-`. */
export function newUploadId(random: (size: number) => Buffer = randomBytes): string {
  for (;;) {
    const id = random(24).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
