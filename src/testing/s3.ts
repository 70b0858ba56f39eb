// Shared by the S3 tests: the real server's address (from scripts/services/s3.sh env), a fresh
// bucket per test file, and a fault-injecting proxy for what a healthy server never does.
import { execFile } from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs/promises';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  AbortMultipartUploadCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { RangeSource } from '../storage/store.ts';

export interface S3TestServer {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  /** Data folder of the service, for scripts/services/s3.sh restart-rgw. */
  dir: string;
}

export function s3TestServer(): S3TestServer {
  const endpoint = process.env.FERRY_TEST_S3_ENDPOINT;
  const accessKey = process.env.FERRY_TEST_S3_ACCESS_KEY;
  const secretKey = process.env.FERRY_TEST_S3_SECRET_KEY;
  const dir = process.env.FERRY_TEST_S3_DIR ?? '';
  if (!endpoint || !accessKey || !secretKey) {
    throw new Error('FERRY_TEST_S3_ENDPOINT / FERRY_TEST_S3_ACCESS_KEY / FERRY_TEST_S3_SECRET_KEY are not set: ' +
      'run `bash scripts/services/s3.sh start && eval "$(bash scripts/services/s3.sh env)"` first (or scripts/test-all.sh)');
  }
  return { endpoint, accessKey, secretKey, dir };
}

/** Puts the test server's keys where the default AWS credential chain finds them. */
export function useServerKeys(server: S3TestServer): void {
  process.env.AWS_ACCESS_KEY_ID = server.accessKey;
  process.env.AWS_SECRET_ACCESS_KEY = server.secretKey;
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_ENDPOINT_URL;
  delete process.env.AWS_ENDPOINT_URL_S3;
}

/** Environment for a `ferry` child process that reaches the test server with its keys. */
export function serverEnv(server: S3TestServer): NodeJS.ProcessEnv {
  return {
    AWS_ACCESS_KEY_ID: server.accessKey,
    AWS_SECRET_ACCESS_KEY: server.secretKey,
    AWS_ENDPOINT_URL: server.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_PROFILE: '',
  };
}

export function adminClient(server: S3TestServer): S3Client {
  return new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKey, secretAccessKey: server.secretKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
}

export async function createBucket(client: S3Client, prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid}-${Date.now().toString(36)}`;
  await client.send(new CreateBucketCommand({ Bucket: name }));
  return name;
}

/** Removes every object and upload, then the bucket. */
export async function dropBucket(client: S3Client, bucket: string): Promise<void> {
  for (const u of await openUploads(client, bucket)) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.key, UploadId: u.uploadId }));
  }
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    await Promise.all((page.Contents ?? []).map((o) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: o.Key }))));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

export async function openUploads(client: S3Client, bucket: string): Promise<{ key: string; uploadId: string }[]> {
  const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return (page.Uploads ?? []).map((u) => ({ key: u.Key!, uploadId: u.UploadId! }));
}

/** Environment for the AWS CLI to reach the test server with its keys, whatever the profile. */
export function awsCliEnv(server: S3TestServer): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_ACCESS_KEY_ID: server.accessKey, AWS_SECRET_ACCESS_KEY: server.secretKey, AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' };
  delete env.AWS_PROFILE;
  delete env.AWS_SESSION_TOKEN;
  return env;
}

/**
 * Pending multipart uploads as the AWS CLI lists them (Debian's aws-cli v2): a client that shares
 * no code with Ferry, for tests that assert nothing was left behind.
 */
export async function awsCliUploads(server: S3TestServer, bucket: string, prefix = ''): Promise<{ key: string; uploadId: string; initiated: string }[]> {
  const { stdout } = await promisify(execFile)('/usr/bin/aws', [
    's3api', 'list-multipart-uploads', '--bucket', bucket, '--prefix', prefix, '--endpoint-url', server.endpoint, '--output', 'json',
  ], { env: awsCliEnv(server) });
  const listed = stdout.trim() ? (JSON.parse(stdout) as { Uploads?: { Key: string; UploadId: string; Initiated: string }[] }) : {};
  return (listed.Uploads ?? []).map((u) => ({ key: u.Key, uploadId: u.UploadId, initiated: u.Initiated }));
}

/** Bytes that differ at every position of a part, so a misplaced part cannot go unnoticed. */
export function patternBytes(size: number, seed = 1): Buffer {
  const b = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    if (i + 4 <= size) b.writeUInt32LE(x, i); else for (let j = i; j < size; j++) b[j] = x & 0xff;
  }
  return b;
}

export function bufferSource(data: Buffer, onRead?: (start: number) => Promise<void> | void): RangeSource {
  return {
    size: data.length,
    async readRange(r) {
      await onRead?.(r.start);
      return Buffer.from(data.subarray(r.start, r.end));
    },
  };
}

/** A RangeSource over a local file, as a child process in the resume test uses it. */
export async function fileSource(file: string): Promise<RangeSource & { close(): Promise<void> }> {
  const fh = await fs.open(file, 'r');
  const { size } = await fh.stat();
  return {
    size,
    async readRange(r) {
      const buf = Buffer.alloc(r.end - r.start);
      await fh.read(buf, 0, buf.length, r.start);
      return buf;
    },
    close: () => fh.close(),
  };
}

export interface FaultProxy {
  endpoint: string;
  close(): Promise<void>;
}

export interface Faults {
  /** Answer this request instead of the server (status and S3 XML error code), or pass it on. */
  fake?(req: http.IncomingMessage): { status: number; code: string } | undefined;
  /** Changes the request body on its way to the server. */
  requestBody?(req: http.IncomingMessage, body: Buffer): Buffer;
  /** Changes response headers on their way back. */
  responseHeaders?(req: http.IncomingMessage, headers: http.IncomingHttpHeaders): http.IncomingHttpHeaders;
  /** Holds the server's answer this many milliseconds before passing it on (the server has acted already). */
  delayAnswer?(req: http.IncomingMessage): number;
}

/** A CreateMultipartUpload request: POST KEY?uploads. */
export function isCreateMultipartUpload(req: http.IncomingMessage): boolean {
  return req.method === 'POST' && /[?&]uploads(=|&|$)/.test(req.url ?? '');
}

/** An HTTP proxy on 127.0.0.1 in front of the real server that injects the given faults. */
export async function faultProxy(target: string, faults: Faults): Promise<FaultProxy> {
  const to = new URL(target);
  const server = http.createServer(async (req, res) => {
    res.on('error', () => {});
    const chunks: Buffer[] = [];
    try {
      for await (const c of req) chunks.push(c as Buffer);
    } catch {
      // The client went away in the middle of its request (a killed worker): nothing to pass on.
      res.destroy();
      return;
    }
    const faked = faults.fake?.(req);
    if (faked) {
      res.writeHead(faked.status, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${faked.code}</Code><Message>injected</Message></Error>`);
      return;
    }
    let body: Buffer = Buffer.concat(chunks);
    if (faults.requestBody) body = faults.requestBody(req, body);
    const up = http.request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      const headers = faults.responseHeaders ? faults.responseHeaders(req, upRes.headers) : upRes.headers;
      setTimeout(() => {
        res.writeHead(upRes.statusCode ?? 502, headers);
        upRes.pipe(res);
      }, faults.delayAnswer?.(req) ?? 0);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    up.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
