// The two S3 requests that dominate small-file work, sent without the SDK: PutObject of a buffer
// and one page of ListObjectsV2. The SDK spends about 0.4 ms of CPU per request in middleware,
// endpoint rules and schema code (bench/transfer.ts, 10,000 x 64 KiB: 4 of the client's 13 CPU-s),
// which on a shared 2-core machine is time taken from the server. Everything else (multipart,
// HEAD, GET, DELETE) stays on the SDK. Errors are shaped like the SDK's (name = S3 error code,
// $metadata.httpStatusCode) so that s3-requests.ts retries and s3-errors.ts words them the same.
import type * as Http from 'node:http';
import type { AwsCredentialIdentity } from '@smithy/types';
import { canonicalQuery, EMPTY_SHA256, SigV4Signer, UNSIGNED_PAYLOAD, uriEncode } from './s3-sigv4.ts';

// Not `import http from 'node:http'`: that builds the module's ESM face, which evaluates every lazy
// export, undici (the engine of fetch) among them, ~10 ms of start-up that no command uses.
const http = process.getBuiltinModule('node:http');
const https = process.getBuiltinModule('node:https');

export interface S3HttpConfig {
  /** Custom endpoint (http[s]://host[:port]); undefined means AWS in `region`. */
  endpoint?: string;
  region: string;
  pathStyle: boolean;
  credentials: () => Promise<AwsCredentialIdentity>;
  maxSockets: number;
  requestTimeoutMs?: number;
}

export interface ListedObject {
  key: string;
  size: number;
  lastModifiedMs: number;
  etag: string;
}

export interface ListPage {
  objects: ListedObject[];
  prefixes: string[];
  nextToken?: string;
}

/** An ETag as S3 sends it, without quotes (or the W/ of a weak one). */
export function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^(W\/)?"|"$/g, '');
}

export class S3HttpError extends Error {
  readonly $metadata: { httpStatusCode: number };
  constructor(code: string, status: number, message: string) {
    super(message || code);
    this.name = code;
    this.$metadata = { httpStatusCode: status };
  }
}

interface Target {
  protocol: 'http:' | 'https:';
  hostname: string;
  port: number;
  /** The Host header: name plus port when it is not the scheme's default. */
  host: string;
  /** Path prefix before the key: "/bucket" for path style, "" for a virtual host. */
  base: string;
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function xmlText(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return XML_ENTITIES[e] ?? m;
  });
}

function tagRaw(xml: string, name: string): string | undefined {
  const open = xml.indexOf(`<${name}>`);
  if (open < 0) return undefined;
  const from = open + name.length + 2;
  const close = xml.indexOf(`</${name}>`, from);
  return close < 0 ? undefined : xml.slice(from, close);
}

function tag(xml: string, name: string): string | undefined {
  const raw = tagRaw(xml, name);
  return raw === undefined ? undefined : xmlText(raw);
}

function blocks(xml: string, name: string): string[] {
  const out: string[] = [];
  const open = `<${name}>`;
  const close = `</${name}>`;
  for (let i = xml.indexOf(open); i >= 0; i = xml.indexOf(open, i)) {
    const end = xml.indexOf(close, i);
    if (end < 0) break;
    out.push(xml.slice(i + open.length, end));
    i = end + close.length;
  }
  return out;
}

export function parseListPage(xml: string): ListPage {
  const objects = blocks(xml, 'Contents').map((c) => ({
    key: tag(c, 'Key') ?? '',
    size: Number(tag(c, 'Size') ?? 0),
    lastModifiedMs: Date.parse(tag(c, 'LastModified') ?? '') || 0,
    // Servers write the quotes as &quot; or as they are: either way they go.
    etag: (tagRaw(c, 'ETag') ?? '').replace(/&quot;|"/g, ''),
  }));
  const prefixes = blocks(xml, 'CommonPrefixes').map((p) => tag(p, 'Prefix') ?? '');
  const truncated = tag(xml, 'IsTruncated') === 'true';
  return { objects, prefixes, nextToken: truncated ? tag(xml, 'NextContinuationToken') : undefined };
}

export class S3Http {
  private readonly cfg: S3HttpConfig;
  private readonly signer: SigV4Signer;
  private readonly agent: Http.Agent;
  private readonly targets = new Map<string, Target>();

  constructor(cfg: S3HttpConfig) {
    this.cfg = cfg;
    this.signer = new SigV4Signer(cfg.region);
    const secure = !cfg.endpoint || cfg.endpoint.startsWith('https:');
    const opts = { keepAlive: true, maxSockets: cfg.maxSockets, keepAliveMsecs: 10_000 };
    this.agent = secure ? new https.Agent(opts) : new http.Agent(opts);
  }

  private target(bucket: string): Target {
    let t = this.targets.get(bucket);
    if (t) return t;
    const url = new URL(this.cfg.endpoint ?? `https://s3.${this.cfg.region}.amazonaws.com`);
    const protocol = url.protocol as Target['protocol'];
    // Dotted names break the TLS wildcard of a virtual host, so they always go path style.
    const virtual = !this.cfg.pathStyle && !(protocol === 'https:' && bucket.includes('.'));
    const hostname = virtual ? `${bucket}.${url.hostname}` : url.hostname;
    const port = url.port ? Number(url.port) : protocol === 'https:' ? 443 : 80;
    t = { protocol, hostname, port, host: url.port ? `${hostname}:${url.port}` : hostname, base: virtual ? '' : `/${uriEncode(bucket, false)}` };
    this.targets.set(bucket, t);
    return t;
  }

  /**
   * PutObject of `body`, or UploadPart with `query` {partNumber, uploadId}; `headers` are
   * lower-case (content-md5, x-amz-meta-*, ...). Returns the ETag as sent. Given `timing`, sets
   * its `flushed` to when the last byte was handed to the kernel (for the upload breakdown).
   */
  async put(bucket: string, key: string, body: Buffer, headers: Record<string, string>, signal?: AbortSignal, query: Record<string, string> = {}, timing?: { flushed?: number }): Promise<string> {
    const t = this.target(bucket);
    const path = `${t.base}/${uriEncode(key, true)}`;
    const q = canonicalQuery(query);
    const h: Record<string, string> = { ...headers, host: t.host, 'content-length': String(body.length) };
    this.signer.sign('PUT', path, q, h, UNSIGNED_PAYLOAD, await this.cfg.credentials());
    const res = await this.send(t, 'PUT', q ? `${path}?${q}` : path, h, body, signal, timing);
    return String(res.headers.etag ?? '');
  }

  async listPage(bucket: string, q: { prefix: string; delimiter?: string; token?: string; startAfter?: string; maxKeys?: number }, signal?: AbortSignal): Promise<ListPage> {
    const t = this.target(bucket);
    const path = t.base || '/';
    const query = canonicalQuery({
      'list-type': '2',
      prefix: q.prefix,
      delimiter: q.delimiter,
      'continuation-token': q.token,
      'start-after': q.startAfter,
      'max-keys': q.maxKeys === undefined ? undefined : String(q.maxKeys),
    });
    const h: Record<string, string> = { host: t.host };
    this.signer.sign('GET', path, query, h, EMPTY_SHA256, await this.cfg.credentials());
    const res = await this.send(t, 'GET', `${path}?${query}`, h, undefined, signal);
    return parseListPage(res.body.toString('utf8'));
  }

  private send(t: Target, method: string, path: string, headers: Record<string, string>, body: Buffer | undefined, signal?: AbortSignal, timing?: { flushed?: number }): Promise<{ headers: Http.IncomingHttpHeaders; body: Buffer }> {
    const mod = t.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = mod.request({ protocol: t.protocol, hostname: t.hostname, port: t.port, method, path, headers, agent: this.agent, signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const all = Buffer.concat(chunks);
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve({ headers: res.headers, body: all });
          const xml = all.toString('utf8');
          const code = tag(xml, 'Code') ?? (status === 404 ? 'NotFound' : `HTTP${status}`);
          reject(new S3HttpError(code, status, tag(xml, 'Message') ?? ''));
        });
      });
      req.setTimeout(this.cfg.requestTimeoutMs ?? 120_000, () => req.destroy(Object.assign(new Error('S3 request timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', reject);
      if (timing) req.on('finish', () => (timing.flushed = performance.now()));
      req.end(body);
    });
  }

  destroy(): void {
    this.agent.destroy();
  }
}
