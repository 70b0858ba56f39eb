// `ferry serve`: a web page over the ledger the CLI uses, on the one orchestration service. The
// routes only parse, call the ledger / orchestrator / RELION service, and answer JSON; the page
// (src/web) draws it and patches itself from a server-sent event stream that one shared watch of
// the ledger feeds. Safe by default: loopback only, a token and a same-origin check for anything
// that changes state, no state-changing route at all when read-only, and no file served from
// outside the folders the page is meant to serve.
import { realpath } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { FerryError, errorMessage } from '../errors.ts';
import { isTransient } from '../ledger/failures.ts';
import type { Orchestrator } from '../runtime/orchestrator.ts';
import { answerDatasetRequest } from '../volume/serve.ts';
import { packageFolder, sendAsset, webFolder } from './files.ts';
import { LedgerWatch } from './live.ts';
import type { LiveOptions } from './live.ts';
import { relionRoutes } from './relion-routes.ts';
import type { RelionService } from './relion.ts';
import { runsRoutes, volumeFolder } from './runs-routes.ts';
import { guard, securityHeaders } from './security.ts';

export interface WebServerOptions {
  orchestrator: Orchestrator;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8080; 0 for any free port. */
  port?: number;
  /** No buttons, no state-changing routes. */
  readOnly?: boolean;
  /** The token state-changing requests must carry; required unless read-only. */
  token?: string;
  /** A Neuroglancer build (its index.html folder) to serve at /neuroglancer/. */
  neuroglancerDir?: string;
  /** The RELION view, when processing records (--ispyb) are configured; closed with the server. */
  relion?: RelionService;
  live?: LiveOptions;
}

export interface WebServer {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:8080/ */
  url: string;
  close(): Promise<void>;
}

/** Paths the page itself answers (src/web/app.js routes them). */
const PAGES = ['/', '/runs/:id', '/runs/:id/jobs/:job', '/relion', '/relion/:visit'];

export async function startWebServer(o: WebServerOptions): Promise<WebServer> {
  const host = o.host ?? '127.0.0.1';
  const readOnly = Boolean(o.readOnly);
  if (!readOnly && !o.token) throw new Error('a web server that can change state needs a token');
  const ledger = await o.orchestrator.ledger();
  const watch = new LedgerWatch(ledger, o.live);
  const web = await webFolder();
  const litHtml = await packageFolder('lit-html');
  const neuroglancer = o.neuroglancerDir ? await realpath(o.neuroglancerDir) : undefined;
  const g = guard({ token: readOnly ? undefined : o.token, boundHost: host });
  const streams = new Set<ServerResponse>();

  const app = Fastify({ logger: false, forceCloseConnections: true, ajv: { customOptions: { coerceTypes: true, removeAdditional: false } } });
  // Only JSON bodies: text/plain is a type a cross-site form may send without a preflight.
  app.removeContentTypeParser(['text/plain']);

  app.addHook('onRequest', async (req, reply) => {
    if (!g.checkHost(req, reply)) return reply;
    const raw = req.url.startsWith('/neuroglancer/') || req.url.startsWith('/volumes/');
    void reply.headers(securityHeaders(!raw));
  });
  const mutation = async (req: FastifyRequest, reply: FastifyReply) => {
    if (!g.checkMutation(req, reply)) return reply;
  };

  app.setErrorHandler((e: FastifyError, _req, reply) => {
    if (e instanceof FerryError) {
      const status = e.code === 'NotFound' || e.code === 'UnknownVisit' ? 404 : e.code === 'ProcessingActive' ? 409 : e.kind === 'environment' || e.code === 'IspybUnreachable' ? 503 : 400;
      return reply.code(status).send({ error: e.message, hint: e.hint });
    }
    if (e.validation) return reply.code(400).send({ error: `bad request: ${e.message}` });
    if (isTransient(e)) return reply.code(503).send({ error: `the ledger at ${ledger.where} cannot be reached now (${errorMessage(e)})`, hint: 'the page tries again by itself' });
    if (e.statusCode && e.statusCode < 500) return reply.code(e.statusCode).send({ error: e.message });
    process.stderr.write(`ferry serve: internal error on ${_req.method} ${_req.url}: ${e.stack ?? errorMessage(e)}\n`);
    return reply.code(500).send({ error: `internal error: ${errorMessage(e)}` });
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: 'not found' }));

  for (const p of PAGES) app.get(p, (_req, reply) => sendAsset(reply, web, '/index.html'));
  app.get('/assets/*', (req, reply) => sendAsset(reply, web, `/${rawTail(req.url, '/assets/')}`));
  app.get('/vendor/lit-html/*', (req, reply) => sendAsset(reply, litHtml, `/${rawTail(req.url, '/vendor/lit-html/')}`));

  app.get('/api/session', async () => ({
    readOnly,
    ledger: ledger.where,
    relion: Boolean(o.relion),
    neuroglancer: Boolean(neuroglancer),
  }));

  app.get('/api/live', async (req, reply) => {
    const snapshot = await watch.snapshot();
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { ...securityHeaders(true), 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    const send = (data: unknown) => res.write(`event: runs\ndata: ${JSON.stringify(data)}\n\n`);
    send(snapshot);
    const unsubscribe = watch.subscribe(send);
    const ping = setInterval(() => res.write(': ping\n\n'), 20_000).unref();
    streams.add(res);
    req.raw.once('close', () => {
      unsubscribe();
      clearInterval(ping);
      streams.delete(res);
    });
  });

  runsRoutes(app, { orchestrator: o.orchestrator, ledger, watch, readOnly, mutation });
  relionRoutes(app, { relion: o.relion, readOnly, mutation });

  // A volume run's destination folder, for Neuroglancer (volume serve's own answers: CORS, Range, gzip).
  app.route({
    method: ['GET', 'HEAD', 'OPTIONS'],
    url: '/volumes/:id/*',
    handler: async (req, reply) => {
      const { id } = req.params as { id: string };
      const status = /^\d+$/.test(id) ? await watch.run(Number(id)) : undefined;
      const dir = status && volumeFolder(status.run);
      if (!dir) return reply.code(404).send({ error: 'no volume run with a folder on this machine' });
      const root = await realpath(dir);
      reply.hijack();
      await answerDatasetRequest(root, `/${rawTail(req.url, `/volumes/${id}/`)}`, req.raw, reply.raw);
    },
  });
  if (neuroglancer) {
    app.get('/neuroglancer/*', async (req, reply) => {
      reply.hijack();
      await answerDatasetRequest(neuroglancer, `/${rawTail(req.url, '/neuroglancer/')}`, req.raw, reply.raw);
    });
  }

  await app.listen({ host, port: o.port ?? 8080 });
  const port = (app.server.address() as AddressInfo).port;
  const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    app,
    url: `http://${shown}:${port}/`,
    async close() {
      watch.close();
      for (const s of streams) s.end();
      await app.close();
      await o.relion?.close();
    },
  };
}

/** The part of a request's raw URL (still percent-encoded, without the query) below `prefix`. */
function rawTail(url: string, prefix: string): string {
  const path = url.split('?')[0];
  return path.startsWith(prefix) ? path.slice(prefix.length) : '';
}
