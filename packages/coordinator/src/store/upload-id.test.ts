import { describe, expect, it } from 'vitest';
import { newUploadId } from './upload-id.js';

describe('newUploadId', () => {
  it('never starts with "-", which the AWS CLI would take for an option, and draws again instead', () => {
    const draws = [Buffer.alloc(24, 0xf8), Buffer.alloc(24, 0x41)]; // 0xf8 encodes as "-" first
    expect(draws[0]!.toString('base64url')).toMatch(/^-/);
    const id = newUploadId(() => draws.shift()!);
    expect(id).toBe(Buffer.alloc(24, 0x41).toString('base64url'));
    expect(draws).toEqual([]);
  });

  it('is 32 characters of base64url', () => {
    for (let i = 0; i < 200; i++) expect(newUploadId()).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{31}$/);
  });
});
