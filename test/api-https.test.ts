/**
 * The coordinator's API port speaks HTTPS by default, with a certificate its own CA issues for its
 * names: the stock AWS CLI works with --ca-bundle and fails clearly without it, plain HTTP sent to the
 * port gets an answer saying what to use (not a dropped connection or a hang), --plaintext-api serves
 * HTTP with a warning, and an operator's certificate is served as given, or refused at start with
 * one line naming the setting, before anything listens.
 */
import { refusesConnections } from './harness/process-checks.js';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COORDINATOR_BIN, startCoordinator } from './harness/coordinator.js';
import type { CoordinatorProcess } from './harness/coordinator.js';
import { cliEnvFor, runAws } from './harness/aws-cli.js';
import { expectOneErrorLine, runCli, userEnvironment } from './harness/cli.js';
import { itWithTools } from './harness/system-tools.js';
import { eventually } from './harness/eventually.js';
import { TEST_CA_DIR_ENV } from './harness/test-ca.js';
import { loadAuthority } from '../packages/coordinator/src/ca/authority.js';
import { untrustedMessage, wrongNameMessage } from '../packages/cli/src/endpoint-diagnosis.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-api-https-'));

/** peer completes a TLS handshake with the API port as a client dialling `servername` would, trusting only `caFile`. */
function peer(port: number, servername: string, caFile: string): Promise<{ authorized: boolean; error?: string; cert: tls.PeerCertificate }> {
  return new Promise((resolve, reject) => {
    // An IP address is checked as the host dialled (TLS sends no IP as a server name).
    const name = net.isIP(servername) === 0 ? { servername } : {};
    const socket = tls.connect({ host: '127.0.0.1', port, ...name, ca: fs.readFileSync(caFile), rejectUnauthorized: false }, () => {
      resolve({ authorized: socket.authorized, ...(socket.authorizationError ? { error: String(socket.authorizationError) } : {}), cert: socket.getPeerCertificate() });
      socket.end();
    });
    socket.once('error', reject);
  });
}

/** rawExchange sends `bytes` on a plain TCP connection and gives all that comes back until the port closes it. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    socket.setEncoding('latin1').on('data', (c: string) => (got += c));
    socket.setTimeout(10_000, () => reject(new Error(`no close within 10 s; got so far: ${got}`)));
    socket.once('close', () => resolve(got));
    socket.once('error', reject);
  });
}

/** withoutCaBundle is the AWS CLI environment for `c` with no CA named, so only what a test passes is trusted. */
function withoutCaBundle(c: CoordinatorProcess): NodeJS.ProcessEnv {
  const env = { ...cliEnvFor(c) };
  delete env.AWS_CA_BUNDLE;
  return env;
}

describe('the API serves HTTPS by default', () => {
  let c: CoordinatorProcess;
  let port: number;
  beforeAll(async () => {
    c = await startCoordinator({ args: ['--api-tls-name', 'api.fleet.test'] });
    port = Number(new URL(c.apiUrl).port);
  }, 60_000);
  afterAll(async () => {
    await c?.stop();
  });

  it('announces an https:// URL and the CA file to trust, on standard output, in its log and in endpoints.json', async () => {
    expect(c.apiUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(c.printed).toContain(`fleetdeploy-coordinator API serves HTTPS; its clients trust the CA certificate ${c.caFile} (aws --ca-bundle FILE, or AWS_CA_BUNDLE=FILE)`);
    expect(JSON.parse(fs.readFileSync(path.join(c.dataDir, 'endpoints.json'), 'utf8'))).toMatchObject({ apiUrl: c.apiUrl, apiCaFile: c.caFile });
    // the log reaches standard error on its own schedule
    const started = await eventually(() => c.logs().split('\n').find((l) => l.includes('"coordinator started"')) ?? Promise.reject(new Error('not logged yet')), 10_000);
    expect(JSON.parse(started)).toMatchObject({ apiUrl: c.apiUrl, apiCaFile: c.caFile });
  });

  it('serves a certificate from the data directory\'s CA for loopback, its host name and each --api-tls-name', async () => {
    for (const name of ['127.0.0.1', 'localhost', os.hostname(), 'api.fleet.test']) {
      const { authorized, error } = await peer(port, name, c.caFile);
      expect({ name, authorized, error }).toEqual({ name, authorized: true });
    }
    const { cert } = await peer(port, 'localhost', c.caFile);
    expect(cert.subjectaltname).toContain('DNS:api.fleet.test');
    expect(cert.subjectaltname).toContain('IP Address:127.0.0.1');
    expect((await peer(port, 'elsewhere.fleet.test', c.caFile)).authorized).toBe(false);
  });

  itWithTools(['aws'], 'takes the stock AWS CLI with --ca-bundle: aws deploy and aws s3 over HTTPS', async () => {
    const env = withoutCaBundle(c);
    const trusted = ['--endpoint-url', c.apiUrl, '--ca-bundle', c.caFile];
    const created = await runAws(['deploy', 'create-application', '--application-name', 'over-tls', ...trusted], env);
    expect(created.code, created.stderr).toBe(0);
    expect(created.json.applicationId).toMatch(/\S/);
    const listed = await runAws(['deploy', 'list-applications', ...trusted], env);
    expect(listed.json).toEqual({ applications: ['over-tls'] });
    const file = path.join(work, 'bundle.zip');
    fs.writeFileSync(file, 'bytes of a revision');
    expect((await runAws(['s3', 'mb', 's3://tls-revisions', ...trusted], env)).code).toBe(0);
    const copied = await runAws(['s3', 'cp', file, 's3://tls-revisions/app.zip', ...trusted], env);
    expect(copied.code, copied.stderr).toBe(0);
    const back = path.join(work, 'back.zip');
    expect((await runAws(['s3', 'cp', 's3://tls-revisions/app.zip', back, ...trusted], env)).code).toBe(0);
    expect(fs.readFileSync(back, 'utf8')).toBe('bytes of a revision');
  });

  itWithTools(['aws'], 'the stock AWS CLI without the CA fails with a certificate error', async () => {
    const r = await runAws(['deploy', 'list-applications', '--endpoint-url', c.apiUrl], withoutCaBundle(c));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/SSL validation failed for https:\/\/127\.0\.0\.1:\d+\/ \[SSL: CERTIFICATE_VERIFY_FAILED\] certificate verify failed/);
  });

  it('fleetdeploy trusts AWS_CA_BUNDLE, --ca-bundle or the profile\'s ca_bundle, and says what to pass without one', async () => {
    const dir = fs.mkdtempSync(path.join(work, 'cli-'));
    const env = userEnvironment(c, dir); // AWS_CA_BUNDLE is the coordinator's CA
    const none = { ...env, AWS_CA_BUNDLE: '' };
    expect((await runCli(['app', 'list'], env, dir)).code).toBe(0);
    expect((await runCli(['--ca-bundle', c.caFile, 'app', 'list'], none, dir)).code).toBe(0);
    // fleetdeploy's own operations (ListInstances) go out on their own request, with the same trust
    const instances = await runCli(['--ca-bundle', c.caFile, 'instances'], none, dir);
    expect(instances.code, instances.stderr).toBe(0);
    expectOneErrorLine(await runCli(['instances'], none, dir), /is not from a CA this command trusts \(SELF_SIGNED_CERT_IN_CHAIN\)/);
    fs.writeFileSync(path.join(dir, 'config'), `[default]\nca_bundle = ${c.caFile}\n`);
    expect((await runCli(['app', 'list'], none, dir)).code).toBe(0);
    fs.writeFileSync(path.join(dir, 'config'), '');
    const untrusted = await runCli(['app', 'list'], none, dir);
    expectOneErrorLine(untrusted, /^ERROR: the certificate of https:\/\/127\.0\.0\.1:\d+ is not from a CA this command trusts \(SELF_SIGNED_CERT_IN_CHAIN\): pass --ca-bundle FILE or set AWS_CA_BUNDLE=FILE with the coordinator's CA certificate, <data_dir>\/ca\/ca\.pem/);
    expect(untrusted.stderr.trim()).toBe(`ERROR: ${untrustedMessage(c.apiUrl, 'SELF_SIGNED_CERT_IN_CHAIN')}`);
  });

  it('fleetdeploy names a CA bundle it cannot use, and where it was named', async () => {
    const dir = fs.mkdtempSync(path.join(work, 'cli-'));
    const env = userEnvironment(c, dir);
    const missing = path.join(dir, 'nope.pem');
    expectOneErrorLine(await runCli(['--ca-bundle', missing, 'app', 'list'], env, dir), new RegExp(`^ERROR: --ca-bundle: cannot read the CA bundle ${missing} \\(ENOENT\\): give the coordinator's <data_dir>/ca/ca\\.pem$`));
    const notPem = path.join(dir, 'not.pem');
    fs.writeFileSync(notPem, 'hello');
    expectOneErrorLine(await runCli(['app', 'list'], { ...env, AWS_CA_BUNDLE: notPem }, dir), new RegExp(`^ERROR: AWS_CA_BUNDLE: ${notPem} holds no PEM certificate`));
    fs.writeFileSync(path.join(dir, 'config'), `[default]\nca_bundle = ${missing}\n`);
    expectOneErrorLine(await runCli(['app', 'list'], { ...env, AWS_CA_BUNDLE: '' }, dir), /^ERROR: ca_bundle of the AWS profile default: cannot read the CA bundle .*nope\.pem \(ENOENT\)/);
  });

  it('answers plain HTTP on its port with 400 and what to use, in S3\'s and CodeDeploy\'s error shapes, and closes', async () => {
    const http = c.apiUrl.replace('https:', 'http:');
    const r = await fetch(`${http}/healthz`);
    expect(r.status).toBe(400);
    expect(await r.text()).toBe(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PlainHttpToHttpsPort</Code><Message>this port serves HTTPS: use ${c.apiUrl} as the endpoint, and trust the coordinator&apos;s CA (aws --ca-bundle &lt;data_dir&gt;/ca/ca.pem, or AWS_CA_BUNDLE)</Message></Error>`);
    const json = await fetch(http, { method: 'POST', headers: { 'x-amz-target': 'CodeDeploy_20141006.ListApplications', 'content-type': 'application/x-amz-json-1.1' }, body: '{}' });
    expect(json.status).toBe(400);
    expect(await json.json()).toEqual({ __type: 'PlainHttpToHttpsPort', message: `this port serves HTTPS: use ${c.apiUrl} as the endpoint, and trust the coordinator's CA (aws --ca-bundle <data_dir>/ca/ca.pem, or AWS_CA_BUNDLE)` });
    // whatever the bytes, the answer comes and the connection ends (no keep-alive, no wait for more)
    expect(await rawExchange(port, 'hello\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*Connection: close\r\n[\s\S]*use https:\/\/HOST:PORT as the endpoint/);
  });

  itWithTools(['aws'], 'the stock AWS CLI given http:// prints what to use', async () => {
    const r = await runAws(['deploy', 'list-applications', '--endpoint-url', c.apiUrl.replace('https:', 'http:')], withoutCaBundle(c));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`An error occurred (PlainHttpToHttpsPort) when calling the ListApplications operation: this port serves HTTPS: use ${c.apiUrl} as the endpoint`);
  });
});

describe('--plaintext-api', () => {
  it('serves plain HTTP, says so on standard output and warns in the log', async () => {
    const c = await startCoordinator({ args: ['--plaintext-api'] });
    try {
      expect(c.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${c.apiUrl}/healthz`)).status).toBe(200);
      expect(c.printed).toContain('fleetdeploy-coordinator WARNING: the API serves plain HTTP (--plaintext-api): requests and bundles cross the network unencrypted');
      const warning = await eventually(() => c.logs().split('\n').find((l) => l.includes('the API serves plain HTTP')) ?? Promise.reject(new Error('not logged yet')), 10_000);
      expect(JSON.parse(warning)).toMatchObject({ level: 40, apiUrl: c.apiUrl });
      expect(JSON.parse(fs.readFileSync(path.join(c.dataDir, 'endpoints.json'), 'utf8'))).not.toHaveProperty('apiCaFile');
    } finally {
      await c.stop();
    }
  });
});

/** freePorts are `n` loopback ports free a moment ago. */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<net.Server>((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}


describe('an operator\'s certificate (--api-tls-cert, --api-tls-key)', () => {
  let certFile: string;
  let keyFile: string;
  let otherKeyFile: string;
  beforeAll(async () => {
    // Issued by the run's CA (which the test trusts) for one name only, as an operator's own CA would
    const caDir = path.join(process.env[TEST_CA_DIR_ENV]!, 'ca');
    const authority = await loadAuthority(fs.readFileSync(path.join(caDir, 'ca.pem'), 'utf8'), fs.readFileSync(path.join(caDir, 'ca-key.pem'), 'utf8'));
    const issued = await authority.issueServer(['api.operator.test'], Date.now());
    const other = await authority.issueServer(['other.test'], Date.now());
    certFile = path.join(work, 'api-chain.pem');
    keyFile = path.join(work, 'api-key.pem');
    otherKeyFile = path.join(work, 'other-key.pem');
    fs.writeFileSync(certFile, issued.chainPem);
    fs.writeFileSync(keyFile, issued.keyPem, { mode: 0o600 });
    fs.writeFileSync(otherKeyFile, other.keyPem, { mode: 0o600 });
  });

  it('is served as given; a client dialling a name it lacks is told which names to use', async () => {
    const c = await startCoordinator({ args: ['--api-tls-cert', certFile, '--api-tls-key', keyFile] });
    try {
      const { authorized, cert } = await peer(Number(new URL(c.apiUrl).port), 'api.operator.test', c.caFile);
      expect(authorized).toBe(true);
      expect(cert.subjectaltname).toBe('DNS:api.operator.test');
      expect(JSON.parse(fs.readFileSync(path.join(c.dataDir, 'endpoints.json'), 'utf8'))).not.toHaveProperty('apiCaFile');
      const dir = fs.mkdtempSync(path.join(work, 'cli-'));
      const r = await runCli(['app', 'list'], userEnvironment(c, dir), dir);
      expectOneErrorLine(r, /does not name 127\.0\.0\.1: use a name it carries/);
      expect(r.stderr.trim()).toBe(`ERROR: ${wrongNameMessage(c.apiUrl, '127.0.0.1')}`);
    } finally {
      await c.stop();
    }
  });

  /** serveFails runs serve on fixed free ports, expecting it to end by itself; gives its exit and whether each port stayed free. */
  async function serveFails(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; listening: boolean }> {
    const [api, agents, enrol] = await freePorts(3);
    const dataDir = fs.mkdtempSync(path.join(work, 'data-'));
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [COORDINATOR_BIN, 'serve', '--data-dir', dataDir, '--port', String(api), '--agent-port', String(agents), '--enrol-port', String(enrol), ...args], { timeout: 15_000 }, (err, stdout, stderr) => {
        const e = err as { code?: number; killed?: boolean } | null;
        resolve({ code: e ? (e.killed ? -1 : (e.code ?? null)) : 0, stdout, stderr });
      });
    });
    const free = await Promise.all([api!, agents!, enrol!].map(refusesConnections));
    return { ...out, listening: out.stdout.includes('listening') || free.includes(false) };
  }

  it.each([
    ['a missing certificate file', () => ['--api-tls-cert', path.join(work, 'none.pem'), '--api-tls-key', keyFile], /^ERROR: api_tls_cert \(--api-tls-cert\): cannot read \S+none\.pem: ENOENT$/],
    ['a missing key file', () => ['--api-tls-cert', certFile, '--api-tls-key', path.join(work, 'none-key.pem')], /^ERROR: api_tls_key \(--api-tls-key\): cannot read \S+none-key\.pem: ENOENT$/],
    ['a certificate without its key', () => ['--api-tls-cert', certFile], /^ERROR: api_tls_cert \(--api-tls-cert\) and api_tls_key \(--api-tls-key\) go together: give both or neither$/],
    ['a certificate file that is not PEM', () => ['--api-tls-cert', keyFile, '--api-tls-key', keyFile], /^ERROR: api_tls_cert \(--api-tls-cert\): \S+api-key\.pem is not a PEM certificate$/],
    ['a key file that is not a key', () => ['--api-tls-cert', certFile, '--api-tls-key', certFile], /^ERROR: api_tls_key \(--api-tls-key\): \S+api-chain\.pem is not a PEM private key \(unencrypted\)$/],
    ['another certificate\'s key', () => ['--api-tls-cert', certFile, '--api-tls-key', otherKeyFile], /^ERROR: api_tls_key \(--api-tls-key\): \S+other-key\.pem is not the key of the certificate in \S+api-chain\.pem$/],
    ['a certificate with --plaintext-api', () => ['--plaintext-api', '--api-tls-cert', certFile, '--api-tls-key', keyFile], /^ERROR: plaintext_api \(--plaintext-api\) serves no certificate, yet api_tls_cert\/api_tls_key name one: remove one or the other$/],
    ['a name that is not one', () => ['--api-tls-name', 'https://api.fleet.test'], /^ERROR: --api-tls-name: "https:\/\/api\.fleet\.test" is not a host name or IP address$/],
  ])('refuses %s with one ERROR line naming the setting, exit 1, nothing listening', async (_what, args, pattern) => {
    const r = await serveFails(args());
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(pattern);
    expect(r.code).toBe(1);
    expect(r.listening).toBe(false);
  });
});
