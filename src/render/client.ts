// The render-ws calls a Render import makes (saalfeldlab/render StackMetaDataService,
// RenderDataService, TileDataService), over one keep-alive HTTP agent. Connection errors and
// server failures (5xx) are retried with exponential back-off; render-ws's own refusals are not:
// a 4xx, or a 500 carrying one of the messages render-ws answers 500 with for a request it will
// never accept (its IllegalStateExceptions: a stack that is not LOADING, a READ_ONLY stack, COMPLETE
// on an empty stack). A refusal stops the whole import (sending the other batches cannot make the
// stack whole); a service still failing after the retries fails the one request. Every failure is
// a FerryError that quotes render-ws's own message.
import http from 'node:http';
import https from 'node:https';
import { FerryError } from '../errors.ts';

export interface RenderTarget {
  /** The service's base URL, e.g. `http://renderer:8080/render-ws/v1`. */
  url: string;
  owner: string;
  project: string;
}

export type StackState = 'LOADING' | 'COMPLETE' | 'READ_ONLY' | 'OFFLINE';

export interface StackStats {
  stackBounds?: { minX: number; minY: number; minZ: number; maxX: number; maxY: number; maxZ: number };
  sectionCount?: number;
  tileCount?: number;
}

/** What `GET <stack>` answers (the parts Ferry reads). */
export interface StackMetaData {
  state: StackState;
  currentVersionNumber?: number;
  currentVersion?: Record<string, unknown>;
  stats?: StackStats;
}

/** `GET <stack>/z/<z>/resolvedTiles`. */
export interface ResolvedTiles {
  transformIdToSpecMap: Record<string, unknown>;
  tileIdToSpecMap: Record<string, Record<string, unknown>>;
}

export interface RetryPolicy {
  attempts: number;
  /** First wait; each further wait doubles, up to maxDelayMs, with jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface RenderClientOptions {
  retry?: Partial<RetryPolicy>;
  /** A request with no answer for this long is abandoned (and retried). */
  timeoutMs?: number;
  /** Connections kept open to the service. */
  maxSockets?: number;
  /** Told about each retry, e.g. to log it as a job event. */
  onRetry?(info: { what: string; attempt: number; reason: string; delayMs: number }): void;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 500, maxDelayMs: 15_000 };
// Deriving the stats of a 120,000-tile stack (COMPLETE) takes render-ws minutes on MongoDB.
const DEFAULT_TIMEOUT_MS = 30 * 60_000;
const RETRIED_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);
// render-ws answers 500 for these (IllegalStateException); asking again cannot help.
const REFUSED_500 = [/can only be saved to stacks in the LOADING state/, /cannot be modified because it is/, /aggregation returned no results/, /must be set to create/];

interface Reply {
  status: number;
  text: string;
}

// render-ws's own "not found" (a stack, or tiles at a z), as opposed to a URL that is not render-ws's.
const NOT_FOUND = (r: Reply) => r.status === 404 && /does not exist|no tile specifications found/.test(r.text);

export class RenderClient {
  readonly target: RenderTarget;
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly retry: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly onRetry: RenderClientOptions['onRetry'];

  constructor(target: RenderTarget, opts: RenderClientOptions = {}) {
    this.target = target;
    this.base = parseBaseUrl(target.url);
    const Agent = this.base.protocol === 'https:' ? https.Agent : http.Agent;
    this.agent = new Agent({ keepAlive: true, maxSockets: opts.maxSockets ?? 8 });
    this.retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.onRetry = opts.onRetry;
  }

  /** undefined when the stack does not exist. */
  async stackMetaData(stack: string): Promise<StackMetaData | undefined> {
    const r = await this.call('GET', stack, '', undefined, NOT_FOUND);
    return r.status === 404 ? undefined : (JSON.parse(r.text) as StackMetaData);
  }

  /** A new stack in LOADING, or a new version of an existing one (LOADING, tiles kept). */
  async saveStackVersion(stack: string, versionJson: string): Promise<void> {
    await this.call('POST', stack, '', versionJson);
  }

  /** Tiles are upserted by id; `deriveData` has render-ws compute each tile's bounds. */
  async saveResolvedTiles(stack: string, body: string): Promise<void> {
    await this.call('PUT', stack, '/resolvedTiles?deriveData=true', body);
  }

  async setState(stack: string, state: StackState): Promise<void> {
    await this.call('PUT', stack, `/state/${state}`);
  }

  async setResolutionValues(stack: string, values: number[]): Promise<void> {
    await this.call('PUT', stack, '/resolutionValues', JSON.stringify(values));
  }

  async resolutionValues(stack: string): Promise<(number | null)[]> {
    return JSON.parse((await this.call('GET', stack, '/resolutionValues')).text) as (number | null)[];
  }

  /** Every tile id of the stack, sorted (an empty list for a stack that does not exist). */
  async tileIds(stack: string): Promise<string[]> {
    return JSON.parse((await this.call('GET', stack, '/tileIds')).text) as string[];
  }

  async zValues(stack: string): Promise<number[]> {
    return JSON.parse((await this.call('GET', stack, '/zValues')).text) as number[];
  }

  /** undefined when the stack has no tile at z. */
  async resolvedTilesAt(stack: string, z: number): Promise<ResolvedTiles | undefined> {
    const r = await this.call('GET', stack, `/z/${z}/resolvedTiles`, undefined, NOT_FOUND);
    return r.status === 404 ? undefined : (JSON.parse(r.text) as ResolvedTiles);
  }

  /** Only in a LOADING stack. */
  async deleteTile(stack: string, tileId: string): Promise<void> {
    await this.call('DELETE', stack, `/tile/${encodeURIComponent(tileId)}`);
  }

  close(): void {
    this.agent.destroy();
  }

  /** `owner/project/stack` at the service, for messages. */
  describe(stack: string): string {
    return `${this.target.owner}/${this.target.project}/${stack} at ${this.base.href}`;
  }

  private async call(method: string, stack: string, sub: string, body?: string, accept: (r: Reply) => boolean = () => false): Promise<Reply> {
    const path = `/owner/${encodeURIComponent(this.target.owner)}/project/${encodeURIComponent(this.target.project)}/stack/${encodeURIComponent(stack)}${sub}`;
    const what = `${method} ${path}`;
    for (let attempt = 1; ; attempt++) {
      let reply: Reply | undefined;
      let reason: string;
      try {
        reply = await this.once(method, path, body);
        if (reply.status < 300 || accept(reply)) return reply;
        if (reply.status < 500 || REFUSED_500.some((p) => p.test(reply!.text))) throw this.refusal(what, reply);
        reason = `HTTP ${reply.status}: ${firstLine(reply.text)}`;
      } catch (e) {
        if (e instanceof FerryError) throw e;
        const code = (e as NodeJS.ErrnoException).code;
        if (!code || !RETRIED_CODES.has(code)) throw this.unreachable(what, e, code);
        reason = code;
      }
      if (attempt >= this.retry.attempts) {
        if (reply) {
          throw new FerryError(`render-ws failed ${what} ${attempt} times, last with HTTP ${reply.status}: ${firstLine(reply.text)}`, {
            hint: `the service at ${this.base.host} is failing; look at its log, and run the import again to resume`,
            code: 'RenderFailed',
            exitCode: 1,
          });
        }
        throw this.unreachable(what, undefined, reason, attempt);
      }
      const delayMs = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      this.onRetry?.({ what, attempt, reason, delayMs });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }

  private once(method: string, path: string, body?: string): Promise<Reply> {
    const url = new URL(this.base.pathname.replace(/\/$/, '') + path, this.base);
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const req = transport.request(url, { method, agent: this.agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error(`no answer in ${this.timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      req.end(body);
    });
  }

  private refusal(what: string, reply: Reply): FerryError {
    const message = firstLine(reply.text) || (http.STATUS_CODES[reply.status] ?? '');
    if (reply.status === 401 || reply.status === 403) {
      return new FerryError(`render-ws at ${this.base.href} answered ${reply.status} ${http.STATUS_CODES[reply.status]} to ${what}: ${message}`, {
        hint: 'Ferry sends no credentials; ask the service\'s administrators to let this host write (render-ws itself has no login), or use a URL that does not go through the login',
        code: 'RenderAccessDenied',
      });
    }
    return new FerryError(`render-ws refused ${what} (HTTP ${reply.status}): ${message}`, {
      hint: reply.status === 404 ? `check --render-url (it should end in /render-ws/v1) and that the stack exists` : 'render-ws says what it would not accept; nothing more was sent',
      code: 'RenderRefused',
      kind: 'environment',
    });
  }

  private unreachable(what: string, e: unknown, code: string | undefined, attempts = 1): FerryError {
    const reason = code ?? (e as Error | undefined)?.message ?? 'no answer';
    return new FerryError(`cannot reach render-ws at ${this.base.href} (${what}): ${reason}${attempts > 1 ? ` after ${attempts} attempts` : ''}`, {
      hint: 'check --render-url and that render-ws is running and reachable from this host; run the import again to resume',
      code: 'RenderUnreachable',
      cause: e,
    });
  }
}

function parseBaseUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new FerryError(`render URL '${url}' is not a URL`, { hint: 'give the service\'s base URL, e.g. http://renderer:8080/render-ws/v1', code: 'RenderBadUrl' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new FerryError(`render URL '${url}' is not http(s)`, { hint: 'give the service\'s base URL, e.g. http://renderer:8080/render-ws/v1', code: 'RenderBadUrl' });
  }
  return u;
}

function firstLine(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 500 ? `${line.slice(0, 500)}...` : line;
}
