/**
 * S3's naming rules for general purpose buckets, as a pure check. CreateBucket applies it; other
 * operations simply find no bucket under an impossible name.
 */

const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

/**
 * bucketNameProblem says why `name` is not a valid S3 bucket name, or returns undefined when it is.
 * The rules: 3 to 63 characters of lowercase letters, digits, dots and hyphens; a letter or digit at
 * both ends; no two adjacent dots; not shaped like an IPv4 address; none of S3's reserved prefixes
 * (`xn--`, `sthree-`, `amzn-s3-demo-`) or suffixes (`-s3alias`, `--ol-s3`, `.mrap`, `--x-s3`,
 * `--table-s3`). Examples: `revisions` and `my.app-1` pass; `My_Bucket`, `ab`, `a..b`, `192.168.5.4` fail.
 */
export function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return 'Bucket names must be between 3 and 63 characters long.';
  if (!/^[a-z0-9.-]+$/.test(name)) return 'Bucket names can consist only of lowercase letters, numbers, dots and hyphens.';
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return 'Bucket names must begin and end with a letter or number.';
  if (name.includes('..')) return 'Bucket names must not contain two adjacent periods.';
  if (/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)) return 'Bucket names must not be formatted as an IP address.';
  const prefix = RESERVED_PREFIXES.find((p) => name.startsWith(p));
  if (prefix !== undefined) return `Bucket names must not start with the reserved prefix ${prefix}.`;
  const suffix = RESERVED_SUFFIXES.find((s) => name.endsWith(s));
  if (suffix !== undefined) return `Bucket names must not end with the reserved suffix ${suffix}.`;
  return undefined;
}
