// The action of `ferry volume serve` (see volume.ts).
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { readInfo } from '../../formats/precomputed/reader.ts';
import { openStore } from '../../storage/open.ts';
import { neuroglancerLink, serveFolder } from '../../volume/serve.ts';
import { Output } from '../output.ts';

export async function serveVolume(dir: string, o: { port?: number }, cmd: Command): Promise<void> {
  const out = new Output({ json: cmd.optsWithGlobals().json });
  const root = resolve(dir);
  const store = await openStore(root);
  let info;
  try {
    info = await readInfo(store);
  } finally {
    await store.close();
  }
  const server = await serveFolder(root, o.port ?? 0);
  const link = neuroglancerLink(server.url, info.type);
  out.line(`Serving ${root} at ${server.url}`);
  out.line(`Neuroglancer source: precomputed://${server.url.replace(/\/$/, '')}`);
  out.line(`Viewer link: ${link}`);
  out.line('Press Ctrl-C to stop.');
  out.event('serving', { dir: root, url: server.url, source: `precomputed://${server.url.replace(/\/$/, '')}`, link });
  await new Promise<void>((done) => {
    const stop = () => server.close().then(done);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
