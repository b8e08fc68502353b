/**
 * Revision bundles made on the fly: a folder with an appspec.yml and hook scripts, zipped with
 * adm-zip (scripts keep their executable bit).
 */
import fs from 'node:fs';
import path from 'node:path';
import AdmZip from 'adm-zip';

/** BundleFiles maps a path inside the bundle to its content; `.sh` files are made executable. */
export type BundleFiles = Record<string, string>;

/** writeZipBundle writes `files` as a zip at `zipPath`. */
export function writeZipBundle(zipPath: string, files: BundleFiles): string {
  const zip = new AdmZip();
  for (const [name, content] of Object.entries(files)) {
    zip.addFile(name, Buffer.from(content, 'utf8'), '', name.endsWith('.sh') ? 0o755 << 16 : 0o644 << 16);
  }
  fs.mkdirSync(path.dirname(zipPath), { recursive: true });
  zip.writeZip(zipPath);
  return zipPath;
}

/**
 * probeBundle is a revision whose hooks record, in `journal`, when each host starts (BeforeInstall)
 * and ends (ValidateService) — the agent's scripts run from its own root_dir, so `$0` names the host —
 * and whose ValidateService fails on the hosts named in `failOn`.
 */
export function probeBundle(journal: string, opts: { failOn?: string[]; sleepSeconds?: number; version?: string; destination?: string } = {}): BundleFiles {
  const sleep = opts.sleepSeconds ?? 0.3;
  const failCase = (opts.failOn ?? []).map((h) => `*/${h}/root/*) echo "validation failed on ${h}" >&2; exit 3 ;;`).join('\n  ');
  return {
    'appspec.yml': [
      'version: 0.0',
      'os: linux',
      'files:',
      '  - source: site',
      `    destination: ${opts.destination ?? '/srv/probe'}`,
      'hooks:',
      '  BeforeInstall:',
      '    - location: hooks/start.sh',
      '      timeout: 30',
      '  ValidateService:',
      '    - location: hooks/validate.sh',
      '      timeout: 30',
      '',
    ].join('\n'),
    'site/index.html': `<h1>probe ${opts.version ?? 'v1'}</h1>\n`,
    'hooks/start.sh': `#!/bin/sh\nhost=$(echo "$0" | sed -E 's#.*/([^/]+)/root/.*#\\1#')\necho "start $host $(date +%s%N)" >> ${journal}\nsleep ${sleep}\n`,
    'hooks/validate.sh': `#!/bin/sh\nhost=$(echo "$0" | sed -E 's#.*/([^/]+)/root/.*#\\1#')\necho "end $host $(date +%s%N)" >> ${journal}\ncase "$0" in\n  ${failCase}\n  *) : ;;\nesac\nsleep ${sleep}\n`,
  };
}

/** maxInFlight reads a probe journal and returns the largest number of hosts between start and end at once. */
export function maxInFlight(journal: string): number {
  if (!fs.existsSync(journal)) return 0;
  const events = fs
    .readFileSync(journal, 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [kind, , at] = l.split(' ');
      return { delta: kind === 'start' ? 1 : -1, at: BigInt(at!) };
    })
    .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.delta - b.delta));
  let current = 0;
  let max = 0;
  for (const e of events) {
    current += e.delta;
    max = Math.max(max, current);
  }
  return max;
}

/** startsIn counts how often each host began BeforeInstall, from a probe journal. */
export function startsIn(journal: string): Record<string, number> {
  const counts: Record<string, number> = {};
  if (!fs.existsSync(journal)) return counts;
  for (const line of fs.readFileSync(journal, 'utf8').trim().split('\n')) {
    const [kind, host] = line.split(' ');
    if (kind === 'start' && host) counts[host] = (counts[host] ?? 0) + 1;
  }
  return counts;
}
