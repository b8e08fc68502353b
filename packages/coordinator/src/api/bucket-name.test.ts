import { describe, expect, it } from 'vitest';
import { bucketNameProblem } from './bucket-name.js';

describe('bucketNameProblem', () => {
  it.each(['revisions', 'my.app-1', 'abc', 'a'.repeat(63), '1bucket', 'xn-ok'])('accepts %s', (name) => {
    expect(bucketNameProblem(name)).toBeUndefined();
  });

  it.each([
    ['ab', /between 3 and 63/],
    ['a'.repeat(64), /between 3 and 63/],
    ['My_Bucket', /lowercase letters/],
    ['UPPER', /lowercase letters/],
    ['-start', /begin and end/],
    ['end.', /begin and end/],
    ['a..b', /adjacent periods/],
    ['192.168.5.4', /IP address/],
    ['xn--punycode', /reserved prefix xn--/],
    ['sthree-x', /reserved prefix sthree-/],
    ['amzn-s3-demo-bucket', /reserved prefix amzn-s3-demo-/],
    ['name-s3alias', /reserved suffix -s3alias/],
    ['name--ol-s3', /reserved suffix --ol-s3/],
    ['name.mrap', /reserved suffix .mrap/],
    ['name--x-s3', /reserved suffix --x-s3/],
    ['name--table-s3', /reserved suffix --table-s3/],
  ])('refuses %s', (name, why) => {
    expect(bucketNameProblem(name)).toMatch(why);
  });
});
