import { DeployError } from '@fleetdeploy/shared';
import { describe, expect, it } from 'vitest';
import { DISK_FULL_MESSAGE, entryRefusal, extractionError, invalidArchiveError } from './errors.js';

describe('bundle errors', () => {
  it('reports a full disk with the AWS agent text', () => {
    const err = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    expect(extractionError(err, 'bundle.tar')).toMatchObject({ code: 'UnknownError', message: DISK_FULL_MESSAGE, cause: err });
  });

  it('names the bundle for other write failures', () => {
    expect(extractionError(new Error('EACCES: permission denied'), 'bundle.tar').message).toBe('could not unpack bundle.tar: EACCES: permission denied');
    expect(extractionError('weird', 'bundle.tar').message).toBe('could not unpack bundle.tar: weird');
  });

  it('passes DeployErrors through unchanged', () => {
    const refusal = entryRefusal('../x', 'path leaves the bundle folder');
    expect(refusal.message).toBe('bundle entry "../x": path leaves the bundle folder');
    expect(extractionError(refusal, 'b')).toBe(refusal);
    expect(invalidArchiveError(refusal, 'b', 'zip')).toBe(refusal);
  });

  it('names bundle, type and problem for an unreadable archive', () => {
    const err = invalidArchiveError(new Error('unexpected end of file'), 'bundle.tar', 'tgz');
    expect(err).toBeInstanceOf(DeployError);
    expect(err.message).toBe('bundle.tar is not a valid tgz archive: unexpected end of file');
  });

  it('quotes control characters in entry names', () => {
    expect(entryRefusal('a\nb', 'x').message).toBe('bundle entry "a\\nb": x');
  });
});
