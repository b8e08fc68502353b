import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { waitForLine } from './processes.js';
import type { Daemon } from './processes.js';

describe("the coordinator's log under simulate", () => {
  it('stays one format: its plain standard-output lines are written as JSON records beside its pino lines', async () => {
    const logFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fd-daemon-log-')), 'coordinator.log');
    fs.writeFileSync(logFile, '{"level":30,"time":1,"service":"coordinator","msg":"coordinator started"}\n');
    const daemon: Daemon = { name: 'coordinator', pid: 1, logFile, logStart: 0, exited: new Promise(() => undefined), running: () => true };
    const stdout = new PassThrough();
    const ready = waitForLine(stdout, 'fleetdeploy-coordinator listening', daemon);
    stdout.write('fleetdeploy-coordinator made the first admin access key: /d/admin-credentials (readable only by you; AWS credentials-file format)\n');
    stdout.write('fleetdeploy-coordinator listening api=http://127.0.0.1:7180 agents=127.0.0.1:7181 enrol=127.0.0.1:7182 data=/d\n');
    expect(await ready).toMatch(/^fleetdeploy-coordinator listening api=/);
    stdout.end();
    const records = fs.readFileSync(logFile, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { level: number; service: string; msg: string });
    expect(records.map((r) => [r.level, r.service, r.msg.split(' ').slice(0, 2).join(' ')])).toEqual([
      [30, 'coordinator', 'coordinator started'],
      [30, 'coordinator', 'fleetdeploy-coordinator made'],
      [30, 'coordinator', 'fleetdeploy-coordinator listening'],
    ]);
  });
});
