import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findExecutable, freeLoopbackPort } from './executables.js';

describe('findExecutable', () => {
  it('finds the first executable file of that name on the path, takes an absolute path as it is, and skips folders and plain files', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-exe-'));
    const [a, b, c] = ['a', 'b', 'c'].map((d) => fs.mkdirSync(path.join(root, d), { recursive: true }) ?? path.join(root, d));
    fs.writeFileSync(path.join(a!, 'tool'), '', { mode: 0o644 }); // not executable
    fs.mkdirSync(path.join(b!, 'tool')); // a folder
    fs.writeFileSync(path.join(c!, 'tool'), '#!/bin/sh\n', { mode: 0o755 });
    const envPath = [a, b, c].join(path.delimiter);
    expect(findExecutable('tool', envPath)).toBe(path.join(c!, 'tool'));
    expect(findExecutable('absent', envPath)).toBeUndefined();
    expect(findExecutable(path.join(c!, 'tool'), '')).toBe(path.join(c!, 'tool'));
    expect(findExecutable(path.join(a!, 'tool'), envPath)).toBeUndefined();
    fs.rmSync(root, { recursive: true, force: true });
  });
});

describe('freeLoopbackPort', () => {
  it('gives a port a server can then listen on', async () => {
    const port = await freeLoopbackPort();
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    expect((server.address() as net.AddressInfo).port).toBe(port);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
