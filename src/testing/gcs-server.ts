// No GCS-compatible server installs from Debian or npm, so the gs:// tests run the real SDK
// against this in-memory stand-in for the subset of the JSON API the driver uses: objects get /
// list (with a delimiter) / delete, media download with Range, multipart uploads (validating a
// given crc32c, as GCS does) and resumable uploads in chunks. Faults are injected per request.
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { crc32cOf, crc32cToBase64 } from '../storage/checksum.ts';

interface StoredObject {
  data: Buffer;
  meta: Record<string, unknown>;
  updated: string;
  generation: number;
}

interface Session {
  bucket: string;
  name: string;
  meta: Record<string, unknown>;
  chunks: Buffer[];
  received: number;
}

export interface FakeGcsFaults {
  /** Return a status instead of serving the request. */
  fail?(req: http.IncomingMessage): number | undefined;
  /** Change the bytes before they are stored (simulates corruption the server does not notice). */
  store?(data: Buffer): Buffer;
}

export interface FakeGcs {
  endpoint: string;
  buckets: Map<string, Map<string, StoredObject>>;
  requests: string[];
  faults: FakeGcsFaults;
  close(): Promise<void>;
}

function resource(bucket: string, name: string, o: StoredObject): Record<string, unknown> {
  return {
    kind: 'storage#object',
    bucket,
    name,
    id: `${bucket}/${name}/${o.generation}`,
    generation: String(o.generation),
    size: String(o.data.length),
    updated: o.updated,
    md5Hash: createHash('md5').update(o.data).digest('base64'),
    crc32c: crc32cToBase64(crc32cOf(o.data)),
    ...o.meta,
  };
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function notFound(res: http.ServerResponse, what: string): void {
  json(res, 404, { error: { code: 404, message: what, errors: [{ reason: 'notFound', message: what }] } });
}

/** The parts of a multipart/related body: JSON metadata, then the media. */
function splitMultipart(body: Buffer, contentType: string): { meta: Record<string, unknown>; media: Buffer } {
  const boundary = /boundary="?([^";]+)"?/.exec(contentType)?.[1] ?? '';
  const sep = Buffer.from(`--${boundary}`);
  const parts: Buffer[] = [];
  let at = body.indexOf(sep);
  while (at >= 0) {
    const next = body.indexOf(sep, at + sep.length);
    if (next < 0) break;
    parts.push(body.subarray(at + sep.length + 2, next - 2));
    at = next;
  }
  const content = (p: Buffer) => p.subarray(p.indexOf('\r\n\r\n') + 4);
  return { meta: JSON.parse(content(parts[0]).toString()), media: Buffer.from(content(parts[1])) };
}

export async function fakeGcs(bucketNames: string[]): Promise<FakeGcs> {
  const buckets = new Map(bucketNames.map((b) => [b, new Map<string, StoredObject>()]));
  const sessions = new Map<string, Session>();
  const requests: string[] = [];
  const faults: FakeGcsFaults = {};
  let generation = 1;
  let endpoint = '';

  const put = (bucket: string, name: string, data: Buffer, meta: Record<string, unknown>) => {
    const o = { data: faults.store ? faults.store(data) : data, meta, updated: new Date().toISOString(), generation: generation++ };
    buckets.get(bucket)!.set(name, o);
    return resource(bucket, name, o);
  };

  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const failed = faults.fail?.(req);
    if (failed) return json(res, failed, { error: { code: failed, message: 'injected' } });

    let m = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
    if (m) {
      const bucket = decodeURIComponent(m[1]);
      if (!buckets.has(bucket)) return notFound(res, 'The specified bucket does not exist.');
      const type = url.searchParams.get('uploadType');
      if (req.method === 'POST' && type === 'multipart') {
        const { meta, media } = splitMultipart(body, req.headers['content-type'] ?? '');
        if (meta.crc32c && meta.crc32c !== crc32cToBase64(crc32cOf(media))) {
          return json(res, 400, { error: { code: 400, message: 'Provided CRC32C "x" doesn\'t match calculated CRC32C' } });
        }
        const name = String(meta.name ?? url.searchParams.get('name'));
        const { crc32c: _given, name: _n, ...keep } = meta;
        return json(res, 200, put(bucket, name, media, keep));
      }
      if (req.method === 'POST' && type === 'resumable') {
        const meta = body.length ? JSON.parse(body.toString()) : {};
        const id = randomBytes(8).toString('hex');
        const { name: _n, ...keep } = meta;
        sessions.set(id, { bucket, name: String(meta.name ?? url.searchParams.get('name')), meta: keep, chunks: [], received: 0 });
        res.writeHead(200, { location: `${endpoint}/upload/storage/v1/b/${m[1]}/o?uploadType=resumable&upload_id=${id}` });
        return res.end();
      }
      if (req.method === 'PUT' && type === 'resumable') {
        const s = sessions.get(url.searchParams.get('upload_id') ?? '');
        if (!s) return notFound(res, 'No such upload');
        const range = /bytes (\d+)-(\d+)\/(\d+|\*)|bytes \*\/(\d+|\*)/.exec(String(req.headers['content-range'] ?? ''));
        if (range?.[1] !== undefined) {
          const start = Number(range[1]);
          if (start === s.received) { s.chunks.push(body); s.received += body.length; }
        }
        const total = range?.[3] ?? range?.[4];
        if (total !== undefined && total !== '*' && Number(total) === s.received) {
          sessions.delete(url.searchParams.get('upload_id')!);
          return json(res, 200, put(s.bucket, s.name, Buffer.concat(s.chunks), s.meta));
        }
        res.writeHead(308, s.received ? { range: `bytes=0-${s.received - 1}` } : {});
        return res.end();
      }
    }

    m = /^\/storage\/v1\/b\/([^/]+)(?:\/o(?:\/(.+))?)?$/.exec(url.pathname);
    if (m) {
      const bucket = decodeURIComponent(m[1]);
      const objects = buckets.get(bucket);
      if (!objects) return notFound(res, 'The specified bucket does not exist.');
      if (!url.pathname.includes('/o')) return json(res, 200, { kind: 'storage#bucket', name: bucket, id: bucket });
      if (m[2] === undefined) {
        const prefix = url.searchParams.get('prefix') ?? '';
        const max = Number(url.searchParams.get('maxResults') ?? 1000);
        const after = url.searchParams.get('pageToken') ?? '';
        // With a delimiter, objects of the prefix's own level only (the driver ignores the prefixes GCS lists apart).
        const delimiter = url.searchParams.get('delimiter');
        const names = [...objects.keys()].filter((n) => n.startsWith(prefix) && n > after && !(delimiter && n.includes(delimiter, prefix.length))).sort();
        const page = names.slice(0, max);
        return json(res, 200, {
          kind: 'storage#objects',
          items: page.map((n) => resource(bucket, n, objects.get(n)!)),
          nextPageToken: names.length > max ? page[page.length - 1] : undefined,
        });
      }
      const name = decodeURIComponent(m[2]);
      const o = objects.get(name);
      if (req.method === 'DELETE') {
        if (!o) return notFound(res, 'No such object');
        objects.delete(name);
        res.writeHead(204);
        return res.end();
      }
      if (!o) return notFound(res, `No such object: ${bucket}/${name}`);
      if (url.searchParams.get('alt') === 'media') {
        const r = /bytes=(\d+)-(\d*)/.exec(String(req.headers.range ?? ''));
        const start = r ? Number(r[1]) : 0;
        const end = r && r[2] ? Number(r[2]) + 1 : o.data.length;
        const meta = resource(bucket, name, o);
        res.writeHead(r ? 206 : 200, {
          'content-length': String(end - start),
          'x-goog-hash': `crc32c=${meta.crc32c},md5=${meta.md5Hash}`,
          'x-goog-generation': String(o.generation),
          'x-goog-stored-content-length': String(o.data.length),
          ...(r ? { 'content-range': `bytes ${start}-${end - 1}/${o.data.length}` } : {}),
        });
        return res.end(o.data.subarray(start, end));
      }
      return json(res, 200, resource(bucket, name, o));
    }
    // Outside the subset above: a 404 that names the call, so a driver change that starts using
    // another endpoint fails its test with the endpoint in the message.
    notFound(res, `the GCS stand-in does not serve ${req.method} ${url.pathname}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    buckets,
    requests,
    faults,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
