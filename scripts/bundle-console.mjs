#!/usr/bin/env node
// Builds the web console (packages/coordinator/console-ui, Preact + TSX) into
// packages/coordinator/dist/console-ui: index.html and content-hashed app-XXXXXXXX.js / .css, each
// with a gzip copy the coordinator sends to browsers that accept it. The coordinator reads the
// folder at start (console/static-assets.ts). Prints the sizes, so a growing bundle is seen.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { build } from 'esbuild';

const ui = path.resolve(import.meta.dirname, '../packages/coordinator/console-ui');
const out = path.resolve(import.meta.dirname, '../packages/coordinator/dist/console-ui');
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: { app: path.join(ui, 'src/main.tsx'), 'app-style': path.join(ui, 'src/styles.css') },
  outdir: out,
  entryNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
});

const outputs = Object.keys(result.metafile.outputs).map((f) => path.basename(f));
const js = outputs.find((f) => /^app-[A-Z0-9]{8}\.js$/.test(f));
const css = outputs.find((f) => /^app-style-[A-Z0-9]{8}\.css$/.test(f));
if (js === undefined || css === undefined) throw new Error(`esbuild wrote ${outputs.join(', ')}; expected app-HASH.js and app-style-HASH.css`);
for (const f of outputs) if (f.endsWith('.js') && f !== js) fs.rmSync(path.join(out, f)); // the CSS entry's empty JS stub
const html = fs.readFileSync(path.join(ui, 'index.html'), 'utf8').replace('__JS__', js).replace('__CSS__', css);
fs.writeFileSync(path.join(out, 'index.html'), html);

const sizes = [];
for (const f of fs.readdirSync(out)) {
  const body = fs.readFileSync(path.join(out, f));
  const gz = zlib.gzipSync(body, { level: 9 });
  fs.writeFileSync(path.join(out, `${f}.gz`), gz);
  sizes.push(`${f} ${(body.length / 1024).toFixed(1)} kB (gzip ${(gz.length / 1024).toFixed(1)} kB)`);
}
console.log(`console: ${sizes.join(', ')}`);
