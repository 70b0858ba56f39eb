// The page's own files (src/web) and the browser modules it uses from node_modules, answered by the
// same path rule as every folder Ferry serves (volume/serve.ts: fileUnder), so that no request
// reaches a file outside them. Nothing comes from a CDN: facility networks are often closed.
import { createReadStream } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { findPackageJSON } from 'node:module';
import { dirname, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyReply } from 'fastify';
import { CONTENT_TYPES, fileUnder } from '../volume/serve.ts';

export interface AssetFolder {
  /** Real path of the folder. */
  root: string;
  /** Extensions served from it; anything else is answered 404. */
  extensions: string[];
}

/** src/web: the page. */
export async function webFolder(): Promise<AssetFolder> {
  return { root: await realpath(fileURLToPath(new URL('../web', import.meta.url))), extensions: ['.html', '.js', '.css', '.svg', '.png'] };
}

/** An npm package's folder, for the browser modules it ships (lit-html). */
export async function packageFolder(name: string): Promise<AssetFolder> {
  const manifest = findPackageJSON(name, import.meta.url);
  if (!manifest) throw new Error(`the npm package ${name} is not installed (run npm ci)`);
  return { root: await realpath(dirname(manifest)), extensions: ['.js'] };
}

/** Sends `urlPath` (still percent-encoded) from the folder: 403 outside it, 404 for anything else missing. */
export async function sendAsset(reply: FastifyReply, folder: AssetFolder, urlPath: string, headers: Record<string, string> = {}): Promise<FastifyReply> {
  const found = await fileUnder(folder.root, urlPath);
  if (found === 'malformed') return reply.code(400).send({ error: 'malformed %-escape in the path' });
  if (found === 'outside') return reply.code(403).send({ error: 'outside the served folder' });
  if (!found || !folder.extensions.includes(extname(found.file))) return reply.code(404).send({ error: 'not found' });
  return reply
    .headers({ ...headers, 'content-type': CONTENT_TYPES[extname(found.file)], 'content-length': String(found.size), 'cache-control': 'no-cache' })
    .send(createReadStream(found.file));
}
