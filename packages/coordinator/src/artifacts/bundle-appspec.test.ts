import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import AdmZip from 'adm-zip';
import { describe, expect, it } from 'vitest';
import { NOOP_EVENT_SECONDS, eventTimeouts, readBundleAppSpec } from './bundle-appspec.js';

const APPSPEC = `version: 0.0
os: linux
hooks:
  AfterInstall:
    - location: a.sh
      timeout: 60
    - location: b.sh
      timeout: 90
  ApplicationStop:
    - location: stop.sh
      timeout: 10
  BeforeInstall:
    - location: c.sh
`;
const EVENTS = ['ApplicationStop', 'DownloadBundle', 'BeforeInstall', 'Install', 'AfterInstall', 'ApplicationStart', 'ValidateService'];

describe('reading the AppSpec of a stored bundle', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-bundle-appspec-'));

  it('finds it at the top of a zip, or inside a single wrapper folder', async () => {
    const top = new AdmZip();
    top.addFile('appspec.yml', Buffer.from(APPSPEC));
    top.addFile('site/index.html', Buffer.from('<h1/>'));
    top.writeZip(path.join(dir, 'top.zip'));
    const wrapped = new AdmZip();
    wrapped.addFile('app-1.0/appspec.yml', Buffer.from('wrapped'));
    wrapped.writeZip(path.join(dir, 'wrapped.zip'));
    expect(await readBundleAppSpec(path.join(dir, 'top.zip'), 'zip')).toBe(APPSPEC);
    expect(await readBundleAppSpec(path.join(dir, 'wrapped.zip'), 'zip')).toBe('wrapped');
  });

  it('reads tar and tgz bundles, and says undefined when there is no AppSpec', async () => {
    const tree = path.join(dir, 'tree');
    fs.mkdirSync(path.join(tree, 'site'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'appspec.yml'), APPSPEC);
    fs.writeFileSync(path.join(tree, 'site/index.html'), 'x');
    execFileSync('tar', ['-czf', path.join(dir, 'b.tgz'), '-C', tree, '.']);
    execFileSync('tar', ['-cf', path.join(dir, 'b.tar'), '-C', tree, 'site']);
    expect(await readBundleAppSpec(path.join(dir, 'b.tgz'), 'tgz')).toBe(APPSPEC);
    expect(await readBundleAppSpec(path.join(dir, 'b.tar'), 'tar')).toBeUndefined();
  });

  it('rejects a file that is not the bundle type it claims', async () => {
    fs.writeFileSync(path.join(dir, 'junk.zip'), 'not a zip at all');
    await expect(readBundleAppSpec(path.join(dir, 'junk.zip'), 'zip')).rejects.toThrow();
  });
});

describe('eventTimeouts', () => {
  it('sums script timeouts per hook of this revision; leaves events it cannot bound the hour (worked example)', () => {
    expect(eventTimeouts(APPSPEC, EVENTS)).toEqual({
      default: 3600,
      BeforeInstall: 3600, // a script without a timeout gets the AppSpec default
      AfterInstall: 150,
      ApplicationStart: NOOP_EVENT_SECONDS,
      ValidateService: NOOP_EVENT_SECONDS,
    });
  });

  it('gives every event the hour when the AppSpec is missing or invalid (the agent reports why)', () => {
    expect(eventTimeouts(undefined, EVENTS)).toEqual({ default: 3600 });
    expect(eventTimeouts('version: 9.9\n', EVENTS)).toEqual({ default: 3600 });
  });
});
