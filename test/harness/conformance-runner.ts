/**
 * Runs one conformance case (a folder of bundles and a case.json, see ../fixtures/conformance) with
 * `fleetdeploy-agent local` and records the same normalised outcome the AWS agent's run recorded in
 * expected.json: which deployments succeeded, the hook log, and the destination tree.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** CaseOutcome is what expected.json holds per case. */
export interface CaseOutcome {
  escaped: boolean;
  steps: Array<{ ok: boolean; mentions: Array<[string, boolean]> }>;
  hooks: string[];
  tree: string[];
}

interface CaseSpec {
  pre?: Array<{ path: string; content: string }>;
  deployments: Array<{
    bundle: string;
    type?: string;
    fileExistsBehavior?: string;
    group?: string;
    app?: string;
    groupName?: string;
    pre?: Array<{ path: string; content: string }>;
    modes?: Array<{ path: string; mode: string }>;
    expectMention?: string[];
  }>;
}

/** AGENT_CLI is the installed agent command (the bundled build), as users run it. */
export const AGENT_CLI = path.resolve(import.meta.dirname, '../../packages/agent/bin/fleetdeploy-agent.js');

/** runConformanceCase deploys each bundle of a case in a fresh work folder and describes the result. */
export function runConformanceCase(caseDir: string): CaseOutcome & { ms: number[] } {
  const spec = JSON.parse(fs.readFileSync(path.join(caseDir, 'case.json'), 'utf8')) as CaseSpec;
  const W = fs.mkdtempSync(path.join(os.tmpdir(), `fdconf-${path.basename(caseDir)}-`));
  try {
    const dest = path.join(W, 'dest');
    const log = path.join(W, 'hooks.log');
    const conf = path.join(W, 'agent.yml');
    fs.mkdirSync(dest);
    fs.writeFileSync(conf, `---\n:log_dir: '${W}/log'\n:pid_dir: '${W}/pid'\n:program_name: codedeploy-agent\n:root_dir: '${W}/root'\n:verbose: false\n:max_revisions: 5\n`);
    const writePre = (pre: CaseSpec['pre']) => {
      for (const p of pre ?? []) {
        fs.mkdirSync(path.dirname(path.join(dest, p.path)), { recursive: true });
        fs.writeFileSync(path.join(dest, p.path), p.content);
      }
    };
    writePre(spec.pre);
    const steps: CaseOutcome['steps'] = [];
    const ms: number[] = [];
    spec.deployments.forEach((d, i) => {
      writePre(d.pre);
      const bundleDir = path.join(W, `bundle-${i}`);
      fs.cpSync(path.join(caseDir, d.bundle), bundleDir, { recursive: true });
      for (const f of walk(bundleDir)) {
        if (!fs.statSync(f).isFile()) continue;
        const text = fs.readFileSync(f, 'utf8');
        if (text.includes('@DEST@') || text.includes('@LOG@')) fs.writeFileSync(f, text.replaceAll('@DEST@', dest).replaceAll('@LOG@', log));
      }
      for (const m of d.modes ?? []) fs.chmodSync(path.join(bundleDir, m.path), parseInt(m.mode, 8));
      const type = d.type ?? 'directory';
      let location = bundleDir;
      if (type === 'tgz') execFileSync('tar', ['-czf', (location = `${bundleDir}.tgz`), '-C', bundleDir, '.']);
      if (type === 'tar') execFileSync('tar', ['-cf', (location = `${bundleDir}.tar`), '-C', bundleDir, '.']);
      if (type === 'zip') execFileSync('zip', ['-qr', (location = `${bundleDir}.zip`), '.'], { cwd: bundleDir });
      fs.appendFileSync(log, `--- deployment ${i}\n`);
      const started = Date.now();
      const r = spawnSync(process.execPath, [
        AGENT_CLI, 'local',
        '--bundle-location', location, '--type', type,
        '--file-exists-behavior', d.fileExistsBehavior ?? 'DISALLOW',
        '--deployment-group', d.group ?? 'g-conformance',
        '--application-name', d.app ?? 'ConfApp',
        '--deployment-group-name', d.groupName ?? 'ConfGroup',
        '--agent-configuration-file', conf,
      ], { cwd: W, encoding: 'utf8', timeout: 60_000 });
      ms.push(Date.now() - started);
      const text = `${r.stdout}\n${r.stderr}`;
      steps.push({ ok: r.status === 0, mentions: (d.expectMention ?? []).map((s) => [s, text.includes(s)]) });
    });
    const norm = (s: string) => s.replaceAll(W, '<W>').replace(/\bd-[A-Za-z0-9-]+/g, '<DID>');
    const hooks = fs.existsSync(log) ? norm(fs.readFileSync(log, 'utf8')).split('\n').filter(Boolean) : [];
    const tree = walk(dest).map((f) => {
      const st = fs.lstatSync(f);
      const rel = path.relative(dest, f);
      if (st.isDirectory()) return `${rel}/ d${(st.mode & 0o7777).toString(8)}`;
      if (st.isSymbolicLink()) return `${rel} -> ${fs.readlinkSync(f)}`;
      const hash = crypto.createHash('sha1').update(norm(fs.readFileSync(f, 'utf8'))).digest('hex').slice(0, 10);
      return `${rel} f${(st.mode & 0o7777).toString(8)} ${hash}`;
    }).sort();
    const escaped = [path.join(W, 'escaped.txt'), path.join(W, '..', 'escaped.txt'), path.join(W, 'root', 'escaped.txt')].some((f) => fs.existsSync(f));
    return { escaped, steps, hooks, tree, ms };
  } finally {
    fs.rmSync(W, { recursive: true, force: true });
  }
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...walk(p));
  }
  return out;
}
