/**
 * The console's built files (scripts/bundle-console.mjs writes them to packages/coordinator/dist/console-ui):
 * `index.html`, and assets whose names carry a content hash (`app-3F2K9QZA.js`) with a gzip copy
 * beside each (`.gz`). They are read into memory once (tens of kB); hashed assets are cached by
 * browsers for a year (a new build has new names), index.html is revalidated every time.
 */
import fs from 'node:fs';
import path from 'node:path';
import type http from 'node:http';

/** DEFAULT_ASSET_DIR is where the build puts the console's files, from this module in src/ or in dist/. */
export const DEFAULT_ASSET_DIR = path.resolve(import.meta.dirname, '../../dist/console-ui');

/** Asset is one file as served. */
interface Asset {
  body: Buffer;
  gzip?: Buffer;
  type: string;
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
};

/** HASHED marks a file name the bundler gave a content hash. */
const HASHED = /-[A-Z0-9]{8}\.[a-z]+$/;

/** ConsoleAssets serves the console's files by name (`index.html`, `app-XXXXXXXX.js`). */
export interface ConsoleAssets {
  /** serve answers GET/HEAD for `name`; false when there is no such file. */
  serve(name: string, req: http.IncomingMessage, res: http.ServerResponse, headers?: Record<string, string>): boolean;
  /** missing says why nothing is served (the files were not built), or undefined. */
  missing?: string;
}

/** loadConsoleAssets reads every file of `dir` (not recursive). A missing directory gives assets that say so. */
export function loadConsoleAssets(dir: string = DEFAULT_ASSET_DIR): ConsoleAssets {
  if (!fs.existsSync(path.join(dir, 'index.html'))) {
    return { serve: () => false, missing: `the console's files are not built (no ${path.join(dir, 'index.html')}); run npm run build` };
  }
  const assets = new Map<string, Asset>();
  for (const name of fs.readdirSync(dir)) {
    if (name.endsWith('.gz')) continue;
    const type = TYPES[path.extname(name)];
    if (type === undefined) continue;
    const gz = path.join(dir, `${name}.gz`);
    assets.set(name, {
      body: fs.readFileSync(path.join(dir, name)),
      ...(fs.existsSync(gz) ? { gzip: fs.readFileSync(gz) } : {}),
      type,
      immutable: HASHED.test(name),
    });
  }
  return {
    serve(name, req, res, headers = {}) {
      const asset = assets.get(name);
      if (asset === undefined) return false;
      const gzip = asset.gzip !== undefined && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      const body = gzip ? asset.gzip! : asset.body;
      res.writeHead(200, {
        'content-type': asset.type,
        'content-length': body.length,
        'cache-control': asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
        'x-content-type-options': 'nosniff',
        vary: 'accept-encoding',
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        ...headers,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    },
  };
}
