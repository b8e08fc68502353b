/**
 * The coordinator's look inside a stored bundle: it reads the AppSpec (at the top, or inside a single
 * wrapper folder, as the agent finds it) to learn the hooks' timeouts, so that it can fail an event
 * whose agent never reports after that long plus a margin. Nothing else of the bundle is read.
 */
import fs from 'node:fs';
import { Parser } from 'tar';
import yauzl from 'yauzl';
import { DEFAULT_TIMEOUT_SECONDS, parseAppSpec } from '@fleetdeploy/shared';

/** MAX_APPSPEC_BYTES bounds what is read of an AppSpec; real ones are a few kilobytes. */
const MAX_APPSPEC_BYTES = 1024 * 1024;
const APPSPEC = /^(?:[^/]+\/)?appspec\.ya?ml$/;

/** rank prefers a top-level appspec.yml, then appspec.yaml, then one in a wrapper folder. */
const rank = (name: string): number => (name.includes('/') ? 2 : 0) + (name.endsWith('.yaml') ? 1 : 0);

/** readBundleAppSpec returns the AppSpec text of a tar, tgz or zip bundle, or undefined when it has none. */
export async function readBundleAppSpec(file: string, bundleType: 'tar' | 'tgz' | 'zip'): Promise<string | undefined> {
  const found = bundleType === 'zip' ? await zipAppSpecs(file) : await tarAppSpecs(file);
  const best = [...found.entries()].sort(([a], [b]) => rank(a) - rank(b))[0];
  return best?.[1];
}

async function tarAppSpecs(file: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      onReadEntry: (entry) => {
        const name = entry.path.replace(/^\.\//, '');
        if (entry.type !== 'File' || !APPSPEC.test(name) || entry.size > MAX_APPSPEC_BYTES) return entry.resume();
        const chunks: Buffer[] = [];
        entry.on('data', (c: Buffer) => chunks.push(c));
        entry.on('end', () => found.set(name, Buffer.concat(chunks).toString('utf8')));
      },
    });
    parser.on('error', reject);
    parser.on('end', () => resolve());
    fs.createReadStream(file).on('error', reject).pipe(parser);
  });
  return found;
}

function zipAppSpecs(file: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('cannot open zip'));
      zip.on('error', reject);
      zip.on('end', () => resolve(found));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (!APPSPEC.test(entry.fileName) || entry.uncompressedSize > MAX_APPSPEC_BYTES) return zip.readEntry();
        zip.openReadStream(entry, (e, stream) => {
          if (e || !stream) return reject(e ?? new Error('cannot read zip entry'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', reject);
          stream.on('end', () => {
            found.set(entry.fileName, Buffer.concat(chunks).toString('utf8'));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

/** EVENTS_FROM_ELSEWHERE run scripts this bundle does not decide (the previous revision's), or move the bundle itself. */
const EVENTS_FROM_ELSEWHERE = ['ApplicationStop', 'BeforeBlockTraffic', 'AfterBlockTraffic', 'DownloadBundle', 'Install'];
/** NOOP_EVENT_SECONDS is how long a hook with no scripts in this bundle may take: the agent only looks and reports. */
export const NOOP_EVENT_SECONDS = 300;

/**
 * eventTimeouts gives each lifecycle event the seconds its scripts may run: the sum of the
 * AppSpec's script timeouts for a hook of this revision, CodeDeploy's hour for events whose work
 * this bundle does not bound (ApplicationStop runs the previous revision's scripts; DownloadBundle
 * and Install move the bundle), and {@link NOOP_EVENT_SECONDS} for a hook with no scripts. An AppSpec
 * that cannot be read or parsed leaves every event the hour: the agent will report the problem.
 * Worked example: AfterInstall with scripts of 60 s and 90 s → 150; ValidateService without scripts → 300.
 */
export function eventTimeouts(appSpecText: string | undefined, events: readonly string[]): Record<string, number> {
  const timeouts: Record<string, number> = { default: DEFAULT_TIMEOUT_SECONDS };
  if (appSpecText === undefined) return timeouts;
  let hooks: Record<string, { timeout: number }[]>;
  try {
    const spec = parseAppSpec(appSpecText, { platform: 'linux' });
    if (spec.kind !== 'server') return timeouts;
    hooks = spec.hooks;
  } catch {
    return timeouts;
  }
  for (const event of events) {
    if (EVENTS_FROM_ELSEWHERE.includes(event)) continue;
    const scripts = hooks[event] ?? [];
    timeouts[event] = scripts.length === 0 ? NOOP_EVENT_SECONDS : scripts.reduce((sum, s) => sum + s.timeout, 0);
  }
  return timeouts;
}
