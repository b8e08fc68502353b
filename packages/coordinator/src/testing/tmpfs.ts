/**
 * Tests of a real full disk mount a small tmpfs, which takes root (CAP_SYS_ADMIN). tmpfsProblem
 * tries one mount and says why it cannot be done here, or undefined when it can.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function tmpfsProblem(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root: mounting a tmpfs needs root';
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'fd-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe], { stdio: 'pipe' });
    execFileSync('umount', [probe], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim().split('\n')[0];
    return `mounting a tmpfs is not permitted here (${stderr || (err as Error).message})`;
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
}
