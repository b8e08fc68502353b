#!/usr/bin/env node
// `npm run demo`: deploys the example web site twice on this machine with `fleetdeploy-agent local`
// (a folder bundle, then a tgz of a changed revision), then a revision whose ValidateService fails,
// and shows what each left behind. Everything lives under /tmp/fleetdeploy-demo.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const repo = path.resolve(import.meta.dirname, '..');
const cli = path.join(repo, 'packages/agent/bin/fleetdeploy-agent.js');
const base = '/tmp/fleetdeploy-demo';
const example = path.join(repo, 'examples/hello-web');

if (!fs.existsSync(cli)) {
  console.error('The agent is not built yet: run `npm ci` (it builds) or `npm run build` first.');
  process.exit(1);
}
fs.rmSync(base, { recursive: true, force: true });
fs.mkdirSync(base, { recursive: true });
const config = path.join(base, 'codedeployagent.yml');
fs.writeFileSync(config, `---\n:root_dir: '${base}/deployment-root'\n:log_dir: '${base}/log'\n:max_revisions: 5\n`);

const heading = (text) => console.log(`\n\x1b[1m== ${text}\x1b[0m`);
const deploy = (location, type) => {
  const r = spawnSync(process.execPath, [cli, 'local',
    '--bundle-location', location, '--type', type,
    '--deployment-group', 'demo-group-id', '--deployment-group-name', 'Demo',
    '--application-name', 'HelloWeb', '--agent-configuration-file', config], { stdio: 'inherit' });
  return r.status;
};
const tree = (dir) => execFileSync('find', [dir, '-mindepth', '1', '-printf', '%M %P\n'], { encoding: 'utf8' }).trim().split('\n').sort((a, b) => a.split(' ')[1].localeCompare(b.split(' ')[1]));

heading('1. Deploy revision 1 from a folder bundle');
deploy(example, 'directory');

heading('2. Deploy revision 2 as a tgz: ApplicationStop runs revision 1\'s script, revision 1\'s files are cleaned up');
const rev2 = path.join(base, 'rev2');
fs.cpSync(example, rev2, { recursive: true });
fs.writeFileSync(path.join(rev2, 'site/index.html'), fs.readFileSync(path.join(rev2, 'site/index.html'), 'utf8').replace('@REVISION@', '2'));
fs.rmSync(path.join(rev2, 'site/style.css'));
fs.writeFileSync(path.join(rev2, 'site/about.html'), '<p>About revision 2</p>\n');
execFileSync('tar', ['-czf', path.join(base, 'rev2.tgz'), '-C', rev2, '.']);
deploy(path.join(base, 'rev2.tgz'), 'tgz');

console.log('\nInstalled files (style.css of revision 1 is gone, about.html is new):');
for (const line of tree(`${base}/www`)) console.log(`  ${line.replace(' ', ' www/')}`);
for (const line of tree(`${base}/etc`)) console.log(`  ${line.replace(' ', ' etc/')}${line.endsWith('.conf') ? "   (mode 640 from the AppSpec's permissions)" : ''}`);

heading('3. Deploy a revision whose ValidateService fails');
const rev3 = path.join(base, 'rev3');
fs.cpSync(rev2, rev3, { recursive: true });
fs.writeFileSync(path.join(rev3, 'scripts/validate.sh'), '#!/bin/sh\necho "checking http://127.0.0.1:8080/health"\necho "health check failed: connection refused" >&2\nexit 7\n');
const status = deploy(rev3, 'directory');
console.log(`(exit status ${status})`);

heading('Where to look');
const groupDir = path.join(base, 'deployment-root/demo-group-id');
console.log(`  deployment folders:     ${groupDir}/<deployment-id>/{deployment-archive,logs/scripts.log}`);
console.log(`  cleanup and markers:    ${base}/deployment-root/deployment-instructions/`);
for (const f of fs.readdirSync(path.join(base, 'deployment-root/deployment-instructions')).sort()) console.log(`                          ${f}`);
console.log(`  every script's output:  ${base}/deployment-root/deployment-logs/codedeploy-agent-deployments.log`);
