import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createBucketGuard, createCodeDeployGuard, createUpgradeAuthenticator, createWatcherKeyCheck } from './request-guards.js';
import { AuthError } from './sigv4-verify.js';
import type { AuthFailure, SigV4Verifier } from './sigv4-verify.js';
import type { AccessKey } from './access-keys.js';

const failing = (failure: AuthFailure): SigV4Verifier => ({ verify: () => Promise.reject(new AuthError(failure, `why: ${failure}`)) });
const passing = (role: 'admin' | 'deployer' | 'read-only'): SigV4Verifier => ({ verify: () => Promise.resolve({ id: 'AKIAKEY', secret: 's', role, createdAt: 0 }) });
const req = (url = '/', headers: Record<string, string> = { authorization: 'AWS4-HMAC-SHA256 …' }) => ({ method: 'POST', url, headers }) as unknown as IncomingMessage;

const FAILURES: AuthFailure[] = ['missing', 'malformed', 'wrongScope', 'missingContentSha256', 'unknownKey', 'skewed', 'unsignedHeaders', 'expired', 'mismatch'];

describe('createCodeDeployGuard', () => {
  it("answers each failure with AWS's JSON exception name", async () => {
    const types: Record<string, string> = {};
    for (const f of FAILURES) {
      const err = await createCodeDeployGuard(failing(f)).authenticate(req(), new Uint8Array()).catch((e: unknown) => e as { type: string; status: number });
      expect((err as { status: number }).status).toBe(400);
      types[f] = (err as { type: string }).type;
    }
    expect(types).toEqual({
      missing: 'MissingAuthenticationTokenException',
      malformed: 'IncompleteSignatureException',
      wrongScope: 'InvalidSignatureException',
      missingContentSha256: 'IncompleteSignatureException',
      unknownKey: 'UnrecognizedClientException',
      skewed: 'InvalidSignatureException',
      unsignedHeaders: 'InvalidSignatureException',
      expired: 'InvalidSignatureException',
      mismatch: 'InvalidSignatureException',
    });
  });

  it('refuses an operation the role may not call with AccessDeniedException naming key, role and operation', async () => {
    const guard = createCodeDeployGuard(passing('read-only'));
    const caller = await guard.authenticate(req(), new Uint8Array());
    expect(() => guard.authorize(caller, 'ListApplications')).not.toThrow();
    expect(() => guard.authorize(caller, 'CreateDeployment')).toThrow(
      expect.objectContaining({ type: 'AccessDeniedException', message: 'The access key AKIAKEY (role read-only) is not authorized to perform: codedeploy:CreateDeployment' }),
    );
  });

  it('refuses a WebSocket upgrade the same way, with 403', async () => {
    await expect(createUpgradeAuthenticator(createCodeDeployGuard(failing('missing')))(req())).resolves.toEqual({
      status: 403,
      type: 'MissingAuthenticationTokenException',
      message: 'Missing Authentication Token',
    });
    await expect(createUpgradeAuthenticator(createCodeDeployGuard(passing('read-only')))(req())).resolves.toBeUndefined();
  });
});

describe('createBucketGuard', () => {
  it("answers each failure with S3's error code and status", async () => {
    const codes: Record<string, string> = {};
    for (const f of FAILURES) {
      const err = (await createBucketGuard(failing(f)).authenticate(req()).catch((e: unknown) => e)) as { code: string; status: number; message: string };
      codes[f] = `${err.status} ${err.code}${f === 'expired' || f === 'unsignedHeaders' ? ` ${err.message}` : ''}`;
    }
    expect(codes).toEqual({
      missing: '403 AccessDenied',
      malformed: '400 AuthorizationHeaderMalformed',
      wrongScope: '400 AuthorizationHeaderMalformed',
      missingContentSha256: '400 InvalidRequest',
      unknownKey: '403 InvalidAccessKeyId',
      skewed: '403 RequestTimeTooSkewed',
      unsignedHeaders: '403 AccessDenied why: unsignedHeaders',
      expired: '403 AccessDenied Request has expired',
      mismatch: '403 SignatureDoesNotMatch',
    });
    const presigned = req('/b/k?X-Amz-Signature=00', {});
    await expect(createBucketGuard(failing('malformed')).authenticate(presigned)).rejects.toMatchObject({ code: 'AuthorizationQueryParametersError' });
  });

  it('refuses what the role may not do with AccessDenied', async () => {
    const guard = createBucketGuard(passing('deployer'));
    const caller = await guard.authenticate(req());
    expect(() => guard.authorize(caller, 'PutObject')).not.toThrow();
    expect(() => guard.authorize(caller, 'DeleteObject')).toThrow(expect.objectContaining({ code: 'AccessDenied', status: 403 }));
  });
});

describe('createWatcherKeyCheck', () => {
  const credential = (id: string): string => `AWS4-HMAC-SHA256 Credential=${id}/20240501/us-east-1/codedeploy/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`;
  const watcher = (id: string) => req('/events', { authorization: credential(id), 'x-amz-date': '20240501T120000Z' });
  const keys = new Map<string, AccessKey>([
    ['AKIALIVE', { id: 'AKIALIVE', secret: 's', role: 'read-only' as const, createdAt: 0 }],
    ['AKIAREVOKED', { id: 'AKIAREVOKED', secret: 's', role: 'admin' as const, createdAt: 0, revokedAt: 5 }],
  ]);
  const live = createWatcherKeyCheck({ get: (id) => Promise.resolve(keys.get(id)) });

  it('answers true for a live key of any role, false for a revoked, deleted or unreadable one', async () => {
    expect(await live(watcher('AKIALIVE'))()).toBe(true);
    expect(await live(watcher('AKIAREVOKED'))()).toBe(false);
    expect(await live(watcher('AKIADELETED'))()).toBe(false);
    expect(await live(req('/events', {}))()).toBe(false);
  });

  it('reads the key from the request once and looks it up on every check, so a later revocation counts', async () => {
    keys.set('AKIALATER', { id: 'AKIALATER', secret: 's', role: 'admin', createdAt: 0 });
    const check = live(watcher('AKIALATER'));
    expect(await check()).toBe(true);
    keys.set('AKIALATER', { id: 'AKIALATER', secret: 's', role: 'admin', createdAt: 0, revokedAt: 9 });
    expect(await check()).toBe(false);
  });
});
