// The action of `ferry serve` (see serve.ts): opens the ledger and, when given, the ISPyB records,
// starts the web server and prints where it is, with the token that actions need.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { FerryError } from '../../errors.ts';
import { openLedger } from '../../ledger/open.ts';
import { resolveLedgerLocation } from '../../ledger/location.ts';
import { ISPYB_URL_ENV, openProcessingRecords } from '../../recipes/relion/records.ts';
import { workdir } from '../../workdir.ts';
import { catalog } from '../../recipes/index.ts';
import { Orchestrator } from '../../runtime/orchestrator.ts';
import { startWebServer } from '../../server/app.ts';
import { relionService } from '../../server/relion.ts';
import { isLoopback, newToken, readTokenFile } from '../../server/security.ts';
import { Output } from '../output.ts';


export interface ServeOptions {
  ledger?: string;
  ispyb?: string;
  host: string;
  port: number;
  readOnly?: boolean;
  tokenFile?: string;
  neuroglancer?: string;
}

export async function runServe(o: ServeOptions, cmd: Command): Promise<void> {
  const out = new Output({ json: Boolean(cmd.optsWithGlobals().json) });
  if (o.readOnly && o.tokenFile) throw new FerryError('--token-file and --read-only do not go together: a read-only page has no actions', { kind: 'usage' });
  const neuroglancer = o.neuroglancer ?? process.env.FERRY_NEUROGLANCER_DIR;
  if (neuroglancer && !existsSync(join(neuroglancer, 'index.html'))) {
    throw new FerryError(`${resolve(neuroglancer)} holds no Neuroglancer build (no index.html)`, {
      hint: 'give the folder of a built Neuroglancer viewer, e.g. dist/min of the @janelia-flyem/neuroglancer package',
      kind: 'usage',
    });
  }
  const token = o.readOnly ? undefined : o.tokenFile ? await readTokenFile(o.tokenFile) : newToken();
  // A read-only page changes nothing, so it opens the ledger the way `ferry status` does.
  const ledger = await openLedger(o.ledger, { mustExist: true, readOnly: o.readOnly });
  const orchestrator = new Orchestrator(ledger, catalog);
  let server;
  try {
    // RELION's records: ISPyB with --ispyb (its password reaches the workers this page starts
    // through FERRY_ISPYB_URL, never the ledger), else the ledger's own.
    const ispyb = o.ispyb ?? (process.env[ISPYB_URL_ENV] || undefined);
    if (ispyb) process.env[ISPYB_URL_ENV] = ispyb;
    const records = await openProcessingRecords(ispyb, () => orchestrator.ledger());
    const cluster = { scheduler: 'local' as const, ledger: resolveLedgerLocation(o.ledger).url, logDir: workdir('logs') };
    const relion = relionService(orchestrator, records, { ispyb, cluster });
    try {
      server = await startWebServer({ orchestrator, host: o.host, port: o.port, readOnly: o.readOnly, token, neuroglancerDir: neuroglancer, relion });
    } catch (e) {
      await relion?.close();
      throw listenError(e, o);
    }
  } catch (e) {
    await orchestrator.close();
    throw e;
  }
  // The token goes after '#': the browser keeps it and never sends it in a request line or a Referer.
  const address = token && !o.tokenFile ? `${server.url}#token=${token}` : server.url;
  out.event('serving', { url: server.url, address, ledger: ledger.where, readOnly: Boolean(o.readOnly), token: o.tokenFile ? undefined : token });
  out.line(`Ferry web page: ${address}`);
  out.line(`Ledger: ${ledger.where}${o.ispyb ? `; RELION records: ${o.ispyb.replace(/:[^@/]*@/, ':***@')}` : ''}`);
  if (o.readOnly) out.line('Read-only: the page has no actions.');
  else out.line(o.tokenFile ? `Actions need the token in ${o.tokenFile}.` : `Actions need the token: ${token} (open the address above to use it).`);
  if (!isLoopback(o.host)) out.warn(`listening on ${o.host}: every machine that reaches it sees the runs${o.readOnly ? '' : ' (actions still need the token)'}; the connection is not encrypted`);
  out.line('Press Ctrl-C to stop.');
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void server.close().then(() => orchestrator.close()).then(done);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function listenError(e: unknown, o: ServeOptions): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'EADDRINUSE') return new FerryError(`port ${o.port} on ${o.host} is taken`, { hint: 'choose another with --port (0: any free one)', kind: 'environment', cause: e });
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') return new FerryError(`cannot listen on ${o.host}: no such address on this machine`, { hint: 'give an address of this machine with --host', kind: 'usage', cause: e });
  if (code === 'EACCES') return new FerryError(`not allowed to listen on port ${o.port}`, { hint: 'ports below 1024 need privileges: choose another with --port', kind: 'environment', cause: e });
  return e;
}
