// A render-ws stand-in for tests and benchmarks: real render-ws needs MongoDB (not in Debian, and no
// registry here ships a server) and Maven Central to build, so the Render import is tested against
// this HTTP server on 127.0.0.1 instead. It serves the calls the import makes, at render-ws's paths,
// with render-ws's answers (saalfeldlab/render StackMetaDataService, RenderDataService,
// TileDataService; statuses and messages as its RenderServiceUtil maps exceptions: an illegal
// argument is 400, an illegal state 500, a missing stack 404, all as text/plain), and it is strict
// where render-ws is: names, timestamps, transform lists, unresolved references, tiles sent to a
// stack that is not LOADING, COMPLETE on an empty stack, state changes render-ws does not allow.
// Bounds and stats are derived as render-ws derives them (render-ws-model.ts). Stacks live in
// memory. Tests make it fail on purpose through `faults`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  RenderWsRefusal,
  STACK_STATES,
  deriveStats,
  prepareResolvedTiles,
  readDoubleList,
  readResolvedTiles,
  readStackVersion,
  storedTile,
} from './render-ws-model.ts';
import type { Json, StackState, TileModel, TransformModel } from './render-ws-model.ts';

export interface RenderWsRequest {
  method: string;
  /** Decoded path below the server root, e.g. `/render-ws/v1/owner/o/project/p/stack/s/resolvedTiles`. */
  path: string;
  query: URLSearchParams;
}

export interface RenderWsFaults {
  /** Answer this instead of serving the request (e.g. 401 from a proxy, 503). */
  respond?(r: RenderWsRequest): { status: number; text?: string } | undefined;
  /** Close the connection without an answer, before serving the request. */
  drop?(r: RenderWsRequest): boolean;
  /** Serve the request, then close the connection without an answer (the work is done, the client does not know). */
  dropAfter?(r: RenderWsRequest): boolean;
  /** Serve the request only once this settles (a slow server: the request is logged on arrival). */
  hold?(r: RenderWsRequest): Promise<void> | undefined;
}

export interface StoredStack {
  owner: string;
  project: string;
  stack: string;
  state: StackState;
  lastModified: number;
  versionNumber: number;
  version: { [k: string]: Json };
  stats?: { [k: string]: Json };
  tiles: Map<string, TileModel>;
  transforms: Map<string, TransformModel>;
}

export interface TestRenderWs {
  /** The base URL Ferry is given: `http://127.0.0.1:<port>/render-ws/v1`. */
  url: string;
  /** Every request: method, path (with query) and the status answered (0 when the connection was dropped). */
  requests: { method: string; path: string; status: number }[];
  faults: RenderWsFaults;
  stack(owner: string, project: string, stack: string): StoredStack | undefined;
  close(): Promise<void>;
}

const BASE = '/render-ws/v1/owner/';
const NAME = /^[A-Za-z0-9]+(_[A-Za-z0-9]+)*$/;
const MAX_COLLECTION_NAME = 111;

export async function startRenderWs(): Promise<TestRenderWs> {
  const stacks = new Map<string, StoredStack>();
  const requests: TestRenderWs['requests'] = [];
  const faults: RenderWsFaults = {};

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const url = new URL(req.url ?? '/', 'http://render-ws');
      const r: RenderWsRequest = { method: req.method ?? 'GET', path: decodeURIComponent(url.pathname), query: url.searchParams };
      const logged = { method: r.method, path: r.path + url.search, status: 0 };
      requests.push(logged);
      await faults.hold?.(r);
      if (faults.drop?.(r)) {
        res.socket?.destroy();
        return;
      }
      const forced = faults.respond?.(r);
      const answer = forced ? { status: forced.status, text: forced.text ?? http.STATUS_CODES[forced.status] ?? '' } : serve(r, Buffer.concat(chunks).toString('utf8'), req.url ?? '');
      logged.status = answer.status;
      if (faults.dropAfter?.(r)) {
        logged.status = 0;
        res.socket?.destroy();
        return;
      }
      if ('json' in answer) {
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer.json));
      } else {
        res.writeHead(answer.status, answer.location ? { 'content-type': 'text/plain', location: answer.location } : { 'content-type': 'text/plain' });
        res.end(answer.text);
      }
    });
  });

  type Answer = { status: number; json: unknown } | { status: number; text: string; location?: string };

  function serve(r: RenderWsRequest, body: string, rawUrl: string): Answer {
    try {
      return route(r, body, rawUrl);
    } catch (e) {
      if (e instanceof RenderWsRefusal) return { status: e.status, text: e.message };
      return { status: 500, text: (e as Error).message };
    }
  }

  function route(r: RenderWsRequest, body: string, rawUrl: string): Answer {
    const notFound = { status: 404, text: `RESTEASY003210: Could not find resource for full path: http://render-ws${rawUrl}` };
    if (!r.path.startsWith(BASE)) return notFound;
    const parts = r.path.slice(BASE.length).split('/');
    if (parts.length < 5 || parts[1] !== 'project' || parts[3] !== 'stack') return notFound;
    const [owner, , project, , stack, ...rest] = parts;
    const sub = rest.join('/');
    const m = `${r.method} ${sub}`;
    const created: Answer = { status: 201, text: '', location: `http://render-ws${rawUrl}` };
    const ok: Answer = { status: 200, text: '' };
    const key = stackKey(owner, project, stack);

    if (m === 'GET ') return { status: 200, json: metaJson(existing(key)) };
    if (m === 'POST ') {
      const version = readStackVersion(parseBody(body));
      const s = stacks.get(key);
      if (s?.state === 'READ_ONLY') throw notModifiable(s);
      // A new version (also of an OFFLINE stack): LOADING, no stats, tiles kept.
      stacks.set(key, {
        owner,
        project,
        stack,
        state: 'LOADING',
        lastModified: Date.now(),
        versionNumber: s ? s.versionNumber + 1 : 0,
        version,
        tiles: s?.tiles ?? new Map(),
        transforms: s?.transforms ?? new Map(),
      });
      return created;
    }
    if (m === 'DELETE ') {
      const s = stacks.get(key);
      if (s?.state === 'READ_ONLY') throw notModifiable(s);
      stacks.delete(key);
      return ok;
    }
    if (r.method === 'PUT' && rest[0] === 'state' && rest.length === 2) {
      const to = rest[1] as StackState;
      if (!STACK_STATES.includes(to)) return notFound; // JAX-RS cannot convert the path parameter
      setState(existing(key), to);
      return created;
    }
    if (m === 'PUT resolvedTiles') {
      const collection = readResolvedTiles(parseBody(body));
      const s = existing(key);
      if (s.state !== 'LOADING') {
        throw new RenderWsRefusal(500, `Resolved tiles can only be saved to stacks in the LOADING state, but this stack's state is ${s.state}.`);
      }
      prepareResolvedTiles(collection, r.query.get('deriveData') === 'true');
      for (const [id, t] of collection.transforms) s.transforms.set(id, t);
      for (const t of collection.tiles) s.tiles.set(t.tileId, storedTile(t));
      return created;
    }
    if (m === 'GET zValues') {
      const s = existing(key);
      return { status: 200, json: [...new Set([...s.tiles.values()].map((t) => t.z).filter((z) => z !== undefined))].sort((a, b) => a! - b!) };
    }
    if (r.method === 'GET' && rest[0] === 'z' && rest[2] === 'resolvedTiles' && rest.length === 3) {
      const z = Number(rest[1]);
      if (rest[1].trim() === '' || Number.isNaN(z)) return notFound;
      const s = existing(key);
      const tiles = [...s.tiles.values()].filter((t) => t.z === z);
      if (tiles.length === 0) throw new RenderWsRefusal(404, `no tile specifications found in ${describe(s)} for z=${javaDouble(z)}`);
      const tileIdToSpecMap: { [id: string]: Json } = {};
      for (const t of tiles) tileIdToSpecMap[t.tileId] = t;
      return { status: 200, json: { transformIdToSpecMap: Object.fromEntries(s.transforms), tileIdToSpecMap } };
    }
    if (m === 'GET tileIds') {
      const s = stacks.get(key);
      return { status: 200, json: s ? [...s.tiles.keys()].sort() : [] };
    }
    if (r.method === 'DELETE' && rest[0] === 'tile' && rest.length === 2) {
      const s = existing(key);
      if (s.state !== 'LOADING') throw new RenderWsRefusal(400, `stack state is ${s.state} but must be LOADING to delete data`);
      s.tiles.delete(rest[1]);
      return ok;
    }
    if (m === 'GET resolutionValues') {
      const v = existing(key).version;
      return { status: 200, json: [v.stackResolutionX ?? null, v.stackResolutionY ?? null, v.stackResolutionZ ?? null] };
    }
    if (m === 'PUT resolutionValues') {
      const values = readDoubleList(parseBody(body));
      const s = existing(key);
      if (s.state === 'READ_ONLY') throw notModifiable(s);
      ['stackResolutionX', 'stackResolutionY', 'stackResolutionZ'].forEach((k, i) => {
        if (i < values.length) s.version[k] = values[i];
      });
      return ok;
    }
    if (['zValues', 'tileIds', 'resolutionValues', 'resolvedTiles', ''].includes(sub) || rest[0] === 'state' || rest[0] === 'tile') {
      return { status: 405, text: `RESTEASY003650: No resource method found for ${r.method}, return 405 with Allow header` };
    }
    return notFound;
  }

  /** StackId's checks, made by every call on a stack. */
  function stackKey(owner: string, project: string, stack: string): string {
    for (const [what, value] of [['owner', owner], ['project', project], ['stack', stack]]) {
      if (!NAME.test(value)) {
        throw new RenderWsRefusal(400, `invalid ${what} '${value}' specified, names may only contain alphanumeric or underscore '_' characters and may not contain consecutive underscores '_'`);
      }
    }
    const collection = `${owner}__${project}__${stack}__transform`;
    if (collection.length > MAX_COLLECTION_NAME) {
      throw new RenderWsRefusal(400, `render collection name '${collection}' must be less than ${MAX_COLLECTION_NAME} characters, therefore the length of one or more of the collection fields should be reduced`);
    }
    return `${owner}/${project}/${stack}`;
  }

  function existing(key: string): StoredStack {
    const s = stacks.get(key);
    if (!s) {
      const [owner, project, stack] = key.split('/');
      throw new RenderWsRefusal(404, `stack with owner '${owner}', project '${project}', and name '${stack}' does not exist`);
    }
    return s;
  }

  // StackMetaDataService.setStackState and StackMetaData.validateStateChange.
  function setState(s: StoredStack, to: StackState): void {
    const from = s.state;
    const allowed = from === to || from === 'COMPLETE' || ((from === 'LOADING' || from === 'OFFLINE') && to === 'COMPLETE') || (from === 'READ_ONLY' && (to === 'COMPLETE' || to === 'OFFLINE'));
    if (!allowed) {
      throw new RenderWsRefusal(400, `The ${s.stack} stack's state is currently ${from} and must first be transitioned to COMPLETE before transitioning it to ${to}.`);
    }
    if (to === 'COMPLETE' && from !== 'READ_ONLY') {
      s.stats = deriveStats(s.tiles.values(), s.transforms.size);
    } else if (to === 'LOADING' && from !== 'LOADING') {
      s.stats = undefined;
      s.versionNumber++;
    } else if (to === 'OFFLINE') {
      s.tiles.clear();
      s.transforms.clear();
    }
    if (from !== to && !((from === 'READ_ONLY' && to === 'COMPLETE') || (from === 'COMPLETE' && to === 'READ_ONLY'))) s.lastModified = Date.now();
    s.state = to;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/render-ws/v1`,
    requests,
    faults,
    stack: (owner, project, stack) => stacks.get(`${owner}/${project}/${stack}`),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function parseBody(body: string): Json | undefined {
  if (body.trim() === '') return undefined;
  try {
    return JSON.parse(body) as Json;
  } catch (e) {
    throw new RenderWsRefusal(400, `Unexpected character in JSON body: ${(e as Error).message}`);
  }
}

function notModifiable(s: StoredStack): RenderWsRefusal {
  return new RenderWsRefusal(500, `Data for stack ${s.stack} cannot be modified because it is ${s.state}.`);
}

function describe(s: StoredStack): string {
  return `stack with owner '${s.owner}', project '${s.project}', and name '${s.stack}'`;
}

function metaJson(s: StoredStack): Json {
  const meta: { [k: string]: Json } = {
    stackId: { owner: s.owner, project: s.project, stack: s.stack },
    state: s.state,
    lastModifiedTimestamp: new Date(s.lastModified).toISOString(),
    currentVersionNumber: s.versionNumber,
    currentVersion: s.version,
  };
  if (s.stats) meta.stats = s.stats;
  return meta;
}

/** How Java prints a double: 1.0, not 1. */
function javaDouble(x: number): string {
  return Number.isInteger(x) ? x.toFixed(1) : String(x);
}
