/**
 * The HAProxy runtime API client against a real HAProxy: what `show servers state` says, what
 * `set weight` and `set server … state` change, the errors for unknown names, and traffic through the
 * frontend while the weights move blue → green. Without HAProxy the suite is skipped (package haproxy).
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freeLoopbackPort } from '@fleetdeploy/shared';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHaproxyRuntimeApi } from '../../packages/coordinator/src/routers/haproxy/runtime-api.js';
import type { HaproxyRuntimeApi } from '../../packages/coordinator/src/routers/haproxy/runtime-api.js';
import { weightChanges } from '../../packages/coordinator/src/routers/haproxy/weight-changes.js';
import { weightsForGreenShare } from '../../packages/coordinator/src/routers/haproxy/weights.js';
import { eventually } from '../harness/eventually.js';
import { startHaproxy } from '../harness/haproxy.js';
import type { HaproxyProcess } from '../harness/haproxy.js';
import { getOnce, newTally, record, sendRequests, share, startLabelServers } from '../harness/label-servers.js';
import type { LabelServers, Tally } from '../harness/label-servers.js';
import { describeWithTools } from '../harness/system-tools.js';

const BLUE = ['blue-1', 'blue-2'];
const GREEN = ['green-1', 'green-2'];
/** Configured weights: blue 3:1, so the shares also show that proportions within a colour hold. */
const INITIAL: Record<string, number> = { 'blue-1': 3, 'blue-2': 1, 'green-1': 1, 'green-2': 1 };

const code = (c: string, message?: unknown) => expect.objectContaining({ name: 'RuntimeApiError', code: c, ...(message === undefined ? {} : { message }) });

/**
 * shiftTo gives the green servers `percent` % through the runtime API, as the router will: initial
 * weights from `show servers state`, the weights for the share, then the commands, raises first.
 */
async function shiftTo(api: HaproxyRuntimeApi, backend: string, percent: number): Promise<number> {
  const servers = await api.showServers(backend);
  const weightOf = (names: string[]) => names.map((n) => servers.find((s) => s.server === n)!.initialWeight);
  const plan = weightsForGreenShare({ blue: weightOf(BLUE), green: weightOf(GREEN) }, percent);
  const target = Object.fromEntries([...BLUE.map((n, i) => [n, plan.blue[i]!]), ...GREEN.map((n, i) => [n, plan.green[i]!])]);
  const current = Object.fromEntries(servers.map((s) => [s.server, s.userWeight]));
  for (const change of weightChanges(current, target)) await api.setWeight(backend, change.server, change.to);
  return plan.greenPercent;
}

const describeShares = (t: Tally): string => [...t.byLabel].sort().map(([l, n]) => `${l} ${n}`).join(', ');

describeWithTools(['haproxy'], 'HAProxy runtime API against a real haproxy', () => {
  let labels: LabelServers;
  let haproxy: HaproxyProcess;
  let api: HaproxyRuntimeApi;
  const portOf = (label: string): number => labels.servers.find((s) => s.label === label)!.port;

  beforeAll(async () => {
    labels = await startLabelServers([...BLUE, ...GREEN]);
    haproxy = await startHaproxy({
      servers: labels.servers.map((s) => ({ name: s.label, port: s.port, weight: INITIAL[s.label]! })),
      tcpRuntimeApi: true,
      operatorSocket: true,
    });
    api = createHaproxyRuntimeApi(haproxy.socketPath);
  });

  afterAll(async () => {
    await haproxy?.stop();
    await labels?.close();
  });

  // Each test starts from the configuration: every server ready at its configured weight.
  beforeEach(async () => {
    for (const [server, weight] of Object.entries(INITIAL)) {
      await api.setState('app', server, 'ready');
      await api.setWeight('app', server, weight);
    }
  });

  it('reads every server of the backend from show servers state', async () => {
    const servers = await api.showServers('app');
    expect(servers.map((s) => s.server)).toEqual([...BLUE, ...GREEN]);
    for (const s of servers) {
      expect(s).toMatchObject({ backend: 'app', address: '127.0.0.1', port: portOf(s.server), operationalState: 'running', maint: false, drain: false, userWeight: INITIAL[s.server], initialWeight: INITIAL[s.server] });
    }
    expect(new Set(servers.map((s) => s.serverId)).size).toBe(4);
  });

  it('reads the same over the TCP runtime API', async () => {
    const tcp = createHaproxyRuntimeApi(haproxy.tcpAddress!);
    expect(await tcp.showServers('app')).toEqual(await api.showServers('app'));
    await tcp.setWeight('app', 'green-2', 9);
    expect((await api.showServers('app')).find((s) => s.server === 'green-2')!.userWeight).toBe(9);
  });

  it('set weight changes the current weight and leaves the configured one', async () => {
    await api.setWeight('app', 'green-1', 77);
    await api.setWeight('app', 'blue-1', 0);
    const byName = new Map((await api.showServers('app')).map((s) => [s.server, s]));
    expect(byName.get('green-1')).toMatchObject({ userWeight: 77, initialWeight: 1 });
    expect(byName.get('blue-1')).toMatchObject({ userWeight: 0, initialWeight: 3 });
    expect(byName.get('blue-2')).toMatchObject({ userWeight: 1, initialWeight: 1 });
    await api.setWeight('app', 'green-1', 256);
    expect((await api.showServers('app')).find((s) => s.server === 'green-1')!.userWeight).toBe(256);
  });

  it('set server state drain, maint and ready show in the admin state', async () => {
    const state = async (server: string) => (await api.showServers('app')).find((s) => s.server === server)!;
    await api.setState('app', 'blue-2', 'drain');
    expect(await state('blue-2')).toMatchObject({ drain: true, maint: false, operationalState: 'running' });
    await api.setState('app', 'blue-2', 'maint');
    expect(await state('blue-2')).toMatchObject({ maint: true, operationalState: 'stopped' });
    await api.setState('app', 'blue-2', 'ready');
    expect(await state('blue-2')).toMatchObject({ drain: false, maint: false, operationalState: 'running', adminFlags: 0 });
  });

  it('a server in maintenance gets no requests, and gets them again when ready', async () => {
    await api.setState('app', 'blue-1', 'maint');
    const during = await sendRequests(haproxy.frontendUrl, 60);
    expect(during.failures).toEqual([]);
    expect(during.byLabel.get('blue-1') ?? 0).toBe(0);
    await api.setState('app', 'blue-1', 'ready');
    const after = await sendRequests(haproxy.frontendUrl, 60);
    expect(after.byLabel.get('blue-1') ?? 0).toBeGreaterThan(0);
  });

  it('names the backend HAProxy does not have', async () => {
    const message = `HAProxy at ${haproxy.socketPath} has no backend 'nope'`;
    await expect(api.showServers('nope')).rejects.toThrow(code('NO_SUCH_BACKEND', message));
    await expect(api.setWeight('nope', 'blue-1', 5)).rejects.toThrow(code('NO_SUCH_BACKEND', message));
    await expect(api.setState('nope', 'blue-1', 'drain')).rejects.toThrow(code('NO_SUCH_BACKEND', message));
  });

  it('names the server the backend does not have', async () => {
    const message = `HAProxy at ${haproxy.socketPath} has no server 'green-9' in backend 'app'`;
    await expect(api.setWeight('app', 'green-9', 5)).rejects.toThrow(code('NO_SUCH_SERVER', message));
    await expect(api.setState('app', 'green-9', 'maint')).rejects.toThrow(code('NO_SUCH_SERVER', message));
  });

  it("passes on HAProxy's own refusal, with the command", async () => {
    const operator = createHaproxyRuntimeApi(haproxy.operatorSocketPath!);
    expect((await operator.showServers('app')).length).toBe(4);
    await expect(operator.setWeight('app', 'blue-1', 5)).rejects.toThrow(code('COMMAND_REJECTED', `HAProxy at ${haproxy.operatorSocketPath} refused 'set weight app/blue-1 5': Permission denied`));
    expect((await api.showServers('app')).find((s) => s.server === 'blue-1')!.userWeight).toBe(3);
  });

  it('10 % green: 1,000 requests through the frontend, green share 10 % ± 3, blue still 3:1', async () => {
    const planned = await shiftTo(api, 'app', 10);
    expect(planned).toBeCloseTo(10, 6);
    const weights = Object.fromEntries((await api.showServers('app')).map((s) => [s.server, s.userWeight]));
    expect(weights).toEqual({ 'blue-1': 243, 'blue-2': 81, 'green-1': 18, 'green-2': 18 });
    const tally = await sendRequests(haproxy.frontendUrl, 1000);
    console.log(`p=10: ${describeShares(tally)}; green ${share(tally, 'green').toFixed(2)} %`);
    expect(tally.failures).toEqual([]);
    expect(tally.total).toBe(1000);
    expect(share(tally, 'green')).toBeGreaterThanOrEqual(7);
    expect(share(tally, 'green')).toBeLessThanOrEqual(13);
    const ratio = (tally.byLabel.get('blue-1') ?? 0) / (tally.byLabel.get('blue-2') ?? 1);
    expect(ratio).toBeGreaterThan(2.5);
    expect(ratio).toBeLessThan(3.5);
  });

  it('100 % green: no request reaches a blue server', async () => {
    expect(await shiftTo(api, 'app', 100)).toBe(100);
    const tally = await sendRequests(haproxy.frontendUrl, 400);
    console.log(`p=100: ${describeShares(tally)}`);
    expect(tally.failures).toEqual([]);
    expect(share(tally, 'blue')).toBe(0);
    expect(tally.byLabel.get('green-1')).toBeGreaterThan(0);
    expect(tally.byLabel.get('green-2')).toBeGreaterThan(0);
  });

  it('no request fails while the green share steps 0 → 10 → 50 → 100 under load', async () => {
    const phases = new Map<number, Tally>();
    // Requests sent while a step's commands are being applied count apart: they meet half-applied weights.
    const transitions = newTally();
    let phase = transitions;
    let stop = false;
    const started = Date.now();
    // Bounded: at most 20,000 requests or 60 s, whichever comes first.
    const loop = async (): Promise<void> => {
      let sent = 0;
      while (!stop && sent < 5_000 && Date.now() - started < 60_000) {
        sent++;
        const current = phase;
        record(current, await getOnce(haproxy.frontendUrl));
      }
    };
    const workers = Array.from({ length: 4 }, loop);
    try {
      for (const p of [0, 10, 50, 100]) {
        phase = transitions;
        await shiftTo(api, 'app', p);
        const tally = newTally();
        phases.set(p, tally);
        phase = tally;
        // Two full round-robin cycles (the weights add up to at most 360 here): within one cycle, and
        // right after a change, HAProxy's weighted round robin may serve a server in a burst.
        await eventually(() => expect(tally.total).toBeGreaterThanOrEqual(720), 20_000);
      }
    } finally {
      stop = true;
      await Promise.all(workers);
    }
    for (const [p, t] of phases) console.log(`under load, p=${p}: ${t.total} requests, green ${share(t, 'green').toFixed(2)} % (${describeShares(t)})`);
    console.log(`during the commands: ${transitions.total} requests, green ${share(transitions, 'green').toFixed(2)} %`);
    expect([...phases.values(), transitions].flatMap((t) => t.failures)).toEqual([]);
    // A request counts in the phase it was sent in; one sent just before the next step's commands may
    // reach HAProxy after the first of them, hence the margins.
    expect(share(phases.get(0)!, 'green')).toBeLessThanOrEqual(1);
    expect(share(phases.get(10)!, 'green')).toBeGreaterThan(7);
    expect(share(phases.get(10)!, 'green')).toBeLessThan(13);
    expect(share(phases.get(50)!, 'green')).toBeGreaterThan(45);
    expect(share(phases.get(50)!, 'green')).toBeLessThan(55);
    expect(share(phases.get(100)!, 'green')).toBe(100);
  });

  it('no request fails when all traffic flips between blue and green at once, back and forth', async () => {
    const tally = newTally();
    let stop = false;
    const started = Date.now();
    // Bounded: at most 8,000 requests or 30 s.
    const loop = async (): Promise<void> => {
      for (let sent = 0; !stop && sent < 2_000 && Date.now() - started < 30_000; sent++) record(tally, await getOnce(haproxy.frontendUrl));
    };
    const workers = Array.from({ length: 4 }, loop);
    try {
      for (let flip = 0; flip < 20; flip++) {
        const before = tally.total;
        await shiftTo(api, 'app', flip % 2 === 0 ? 100 : 0);
        await eventually(() => expect(tally.total).toBeGreaterThan(before + 10), 10_000);
      }
    } finally {
      stop = true;
      await Promise.all(workers);
    }
    console.log(`20 flips 0 ↔ 100 %: ${tally.total} requests, ${tally.failures.length} failed (${describeShares(tally)})`);
    expect(tally.failures).toEqual([]);
  });
});

describeWithTools(['haproxy'], 'HAProxy runtime API with health checks', () => {
  it('reports a server whose checks fail as stopped, and as running once it answers', async () => {
    const labels = await startLabelServers(['blue-1']);
    const laterPort = await freeLoopbackPort();
    const haproxy = await startHaproxy({ servers: [{ name: 'blue-1', port: labels.servers[0]!.port }, { name: 'green-1', port: laterPort }], check: true });
    const later = http.createServer((_req, res) => res.end('green-1'));
    try {
      const api = createHaproxyRuntimeApi(haproxy.socketPath);
      const states = async () => Object.fromEntries((await api.showServers('app')).map((s) => [s.server, s.operationalState]));
      await eventually(async () => expect(await states()).toEqual({ 'blue-1': 'running', 'green-1': 'stopped' }), 10_000);
      const tally = await sendRequests(haproxy.frontendUrl, 20);
      expect(tally.failures).toEqual([]);
      expect(tally.byLabel.get('blue-1')).toBe(20);
      await new Promise<void>((resolve) => later.listen(laterPort, '127.0.0.1', resolve));
      await eventually(async () => expect(await states()).toEqual({ 'blue-1': 'running', 'green-1': 'running' }), 10_000);
    } finally {
      await haproxy.stop();
      later.closeAllConnections();
      await new Promise<void>((resolve) => (later.listening ? later.close(() => resolve()) : resolve()));
      await labels.close();
    }
  });
});

describe('HAProxy runtime API that cannot be reached or does not answer', () => {
  let dir: string;
  const closers: Array<() => Promise<void>> = [];
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-haproxy-api-'));
  });
  afterEach(async () => {
    while (closers.length > 0) await closers.pop()!();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** silentServer accepts connections and never answers (a hung HAProxy, or something else on the port). */
  async function silentServer(listen: (server: net.Server, ready: () => void) => void): Promise<net.Server> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((s) => sockets.add(s));
    await new Promise<void>((resolve) => listen(server, resolve));
    closers.push(() => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }));
    return server;
  }

  it('a socket path where nothing is', async () => {
    const absent = path.join(dir, 'absent.sock');
    const api = createHaproxyRuntimeApi(absent);
    await expect(api.showServers('app')).rejects.toThrow(code('UNREACHABLE', expect.stringMatching(new RegExp(`^cannot reach HAProxy's runtime API at ${absent}: connect ENOENT`))));
    await expect(api.setWeight('app', 'blue-1', 1)).rejects.toThrow(code('UNREACHABLE'));
  });

  it('a TCP port that refuses', async () => {
    const port = await freeLoopbackPort();
    const api = createHaproxyRuntimeApi(`127.0.0.1:${port}`);
    await expect(api.setState('app', 'blue-1', 'drain')).rejects.toThrow(code('UNREACHABLE', expect.stringMatching(new RegExp(`^cannot reach HAProxy's runtime API at 127.0.0.1:${port}: connect ECONNREFUSED`))));
  });

  it('a Unix socket that accepts and never answers times out', async () => {
    const socketPath = path.join(dir, 'silent.sock');
    await silentServer((server, ready) => server.listen(socketPath, ready));
    const api = createHaproxyRuntimeApi(socketPath, { timeoutMs: 300 });
    const started = Date.now();
    await expect(api.showServers('app')).rejects.toThrow(code('TIMEOUT', `HAProxy's runtime API at ${socketPath} timed out: no answer to 'show servers state app' within 300 ms`));
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a TCP port that accepts and never answers times out', async () => {
    const server = await silentServer((s, ready) => s.listen(0, '127.0.0.1', ready));
    const address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    const api = createHaproxyRuntimeApi(address, { timeoutMs: 300 });
    await expect(api.setWeight('app', 'blue-1', 7)).rejects.toThrow(code('TIMEOUT', `HAProxy's runtime API at ${address} timed out: no answer to 'set weight app/blue-1 7' within 300 ms`));
  });

  it('a socket that closes without a byte is no success', async () => {
    const socketPath = path.join(dir, 'mute.sock');
    const server = net.createServer((s) => s.once('data', () => s.end()));
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const api = createHaproxyRuntimeApi(socketPath);
    await expect(api.setWeight('app', 'blue-1', 0)).rejects.toThrow(code('BAD_RESPONSE', `HAProxy's runtime API at ${socketPath} closed the connection without answering 'set weight app/blue-1 0'`));
    await expect(api.setState('app', 'blue-1', 'maint')).rejects.toThrow(code('BAD_RESPONSE'));
    await expect(api.showServers('app')).rejects.toThrow(code('BAD_RESPONSE', expect.stringContaining('it is empty')));
  });

  it('something else answering on the socket is a bad response, not a parse crash', async () => {
    const socketPath = path.join(dir, 'chatty.sock');
    // Like HAProxy, it reads the command line before answering and closing.
    const server = net.createServer((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const api = createHaproxyRuntimeApi(socketPath);
    await expect(api.showServers('app')).rejects.toThrow(code('BAD_RESPONSE', `unexpected answer to 'show servers state' from HAProxy at ${socketPath}: expected format version 1 on the first line, got 'HTTP/1.1 400 Bad Request'`));
    await expect(api.setWeight('app', 'blue-1', 1)).rejects.toThrow(code('COMMAND_REJECTED', `HAProxy at ${socketPath} refused 'set weight app/blue-1 1': HTTP/1.1 400 Bad Request`));
  });
});
