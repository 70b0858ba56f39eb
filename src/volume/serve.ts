// A static server for a precomputed dataset in a folder, with what Neuroglancer needs from one:
// CORS on every answer (a failed CORS request looks like a missing, black chunk), HEAD and Range
// (for shard files), and Content-Encoding: gzip for unsharded raw chunks stored gzipped, which
// only a server that knows the format can tell apart from raw voxels.
import { createReadStream } from 'node:fs';
import { open, readFile, realpath, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, relative, resolve, sep } from 'node:path';
import { bytesPerVoxel } from '../arrays/voxels.ts';
import { FerryError } from '../errors.ts';
import { parseInfoBytes } from '../formats/precomputed/info.ts';

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': '*',
  'access-control-allow-headers': '*',
  'access-control-allow-methods': 'GET, HEAD, OPTIONS',
};

export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

export interface StaticServer {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** `<x0>-<x1>_<y0>-<y1>_<z0>-<z1>` as the last path segment: an unsharded chunk. */
const CHUNK_NAME = /^(\d+)-(\d+)_(\d+)-(\d+)_(\d+)-(\d+)$/;

/**
 * Whether the file at `rel` is an unsharded raw chunk stored gzipped: its name is a chunk box of a
 * raw scale of the dataset's info, it starts with the gzip magic and is not the raw length.
 */
async function isGzippedRawChunk(root: string, rel: string, size: number): Promise<boolean> {
  const parts = rel.split('/');
  const m = CHUNK_NAME.exec(parts[parts.length - 1]);
  if (!m) return false;
  const infoBytes = await readFile(join(root, ...parts.slice(0, -2), 'info')).catch(() => undefined);
  if (!infoBytes) return false;
  let info;
  try {
    info = parseInfoBytes(infoBytes);
  } catch {
    return false;
  }
  const scale = info.scales.find((s) => s.key === parts[parts.length - 2]);
  if (!scale || scale.encoding !== 'raw' || scale.sharding) return false;
  const n = [1, 3, 5].reduce((v, i) => v * (Number(m[i + 1]) - Number(m[i])), 1);
  if (size === n * info.num_channels * bytesPerVoxel(info.data_type)) return false;
  const fh = await open(join(root, ...parts), 'r');
  try {
    const head = Buffer.alloc(2);
    await fh.read(head, 0, 2, 0);
    return head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'invalid' | undefined {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'invalid';
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return 'invalid';
  return { start, end };
}

/**
 * The file a URL path (still percent-encoded) names under `root`, which must be a real path
 * (realpath): 'outside' when the path would leave the folder, by `..` (also encoded), a NUL, or a
 * symbolic link that points out of it; undefined when there is no such file. A folder stands for its
 * index.html. Every server of folders (this one, the web page's) answers by this one rule.
 */
export async function fileUnder(root: string, urlPath: string): Promise<{ file: string; size: number } | 'outside' | 'malformed' | undefined> {
  let path: string;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return 'malformed';
  }
  if (path.includes('\0')) return 'outside';
  const inside = (p: string) => p === root || p.startsWith(root + sep);
  let file = resolve(root, '.' + (path.startsWith('/') ? path : `/${path}`));
  if (!inside(file)) return 'outside';
  let st = await stat(file).catch(() => undefined);
  if (st?.isDirectory()) {
    file = join(file, 'index.html');
    st = await stat(file).catch(() => undefined);
  }
  if (!st?.isFile()) return undefined;
  // stat followed any link on the way: what counts is where the file really is.
  if (!inside(await realpath(file))) return 'outside';
  return { file, size: st.size };
}

/**
 * Answers one request for the dataset folder `root` (a real path), `urlPath` being the part of the
 * URL below the folder: for `volume serve`, and for the web page, which mounts datasets under its
 * own paths.
 */
export async function answerDatasetRequest(root: string, urlPath: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === 'OPTIONS') {
    res.writeHead(204, { ...CORS, 'access-control-max-age': '86400' }).end();
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...CORS, allow: 'GET, HEAD, OPTIONS' }).end();
    return;
  }
  const found = await fileUnder(root, urlPath);
  if (found === 'malformed') {
    res.writeHead(400, { ...CORS, 'content-type': 'text/plain' }).end('malformed %-escape in the path\n');
    return;
  }
  if (found === 'outside') {
    res.writeHead(403, CORS).end();
    return;
  }
  if (!found) {
    res.writeHead(404, { ...CORS, 'content-type': 'text/plain' }).end('not found\n');
    return;
  }
  const { file, size } = found;
  const rel = relative(root, file).split(sep).join('/');
  const headers: Record<string, string | number> = {
    ...CORS,
    'accept-ranges': 'bytes',
    'content-type': CONTENT_TYPES[extname(file)] ?? (rel.endsWith('info') ? 'application/json' : 'application/octet-stream'),
    'cache-control': rel === 'info' || rel.endsWith('/info') ? 'no-cache' : 'max-age=3600',
  };
  if (await isGzippedRawChunk(root, rel, size)) headers['content-encoding'] = 'gzip';
  const range = headers['content-encoding'] ? undefined : parseRange(req.headers.range, size);
  if (range === 'invalid') {
    res.writeHead(416, { ...headers, 'content-range': `bytes */${size}` }).end();
    return;
  }
  if (range) {
    res.writeHead(206, { ...headers, 'content-length': range.end - range.start + 1, 'content-range': `bytes ${range.start}-${range.end}/${size}` });
  } else {
    res.writeHead(200, { ...headers, 'content-length': size });
  }
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file, range ?? {}).pipe(res);
}

/** Serves `folder` on 127.0.0.1 (port 0: any free port). */
export async function serveFolder(folder: string, port = 0): Promise<StaticServer> {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new FerryError(`port ${port} is not a TCP port`, { hint: 'give a port from 1 to 65535, or none for any free one', kind: 'usage' });
  const root = await realpath(resolve(folder));
  const server = createServer((req, res) => {
    answerDatasetRequest(root, new URL(req.url ?? '/', 'http://x').pathname, req, res).catch((e: unknown) => {
      if (!res.headersSent) res.writeHead(500, { ...CORS, 'content-type': 'text/plain' });
      res.end(`${(e as Error).message}\n`);
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => fail(listenError(e, port)));
    server.listen(port, '127.0.0.1', () => ok());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    server,
    port: actual,
    url: `http://127.0.0.1:${actual}/`,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}

function listenError(e: NodeJS.ErrnoException, port: number): unknown {
  const why = { EADDRINUSE: 'is in use by another program', EACCES: 'may not be opened by this user (ports below 1024 need privileges)' }[e.code ?? ''];
  if (!why) return e;
  return new FerryError(`port ${port} on 127.0.0.1 ${why}`, { hint: 'choose another --port, or leave it out for any free one', kind: 'environment', code: e.code, cause: e });
}

/** A link to the public Neuroglancer viewer showing the dataset at `dataUrl`. */
export function neuroglancerLink(dataUrl: string, type: 'image' | 'segmentation', viewer = 'https://neuroglancer-demo.appspot.com/'): string {
  const state = { layers: [{ type, source: `precomputed://${dataUrl.replace(/\/$/, '')}`, name: 'ferry' }], layout: 'xy' };
  return `${viewer}#!${encodeURIComponent(JSON.stringify(state))}`;
}
