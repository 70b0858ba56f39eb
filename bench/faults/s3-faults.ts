// What the S3 rows of the fault matrix (R1-R4) share: the S3 server to run against (the one
// test-all started, or a private one a row starts for itself when it must kill the server or
// change its keys: never the shared one), independent clients that read back every object (the
// AWS CLI and rclone from Debian), and trees of files to send.
import { execFile } from 'node:child_process';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { S3Client } from '@aws-sdk/client-s3';
import { adminClient, awsCliUploads, createBucket, dropBucket, patternBytes, s3TestServer } from '../../src/testing/s3.ts';
import type { S3TestServer } from '../../src/testing/s3.ts';
import { content } from '../../src/testing/tree.ts';

const run = promisify(execFile);
const S3_SH = fileURLToPath(new URL('../../scripts/services/s3.sh', import.meta.url));

export interface PrivateS3 extends S3TestServer {
  /** Environment under which scripts/services/s3.sh and radosgw-admin reach this server. */
  env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/**
 * A throw-away Ceph of this row's own (scripts/services/s3.sh with its own FERRY_SERVICES_DIR and
 * port: FERRY_FAULTS_S3_PORT, default 7880; objects in memory), for rows that kill radosgw or
 * create and delete its keys. Takes a minute or two to start.
 */
export async function privateS3(name: string): Promise<PrivateS3> {
  const port = process.env.FERRY_FAULTS_S3_PORT ?? '7880';
  const dir = join(tmpdir(), `ferry-faults-${name}-${process.pid}`);
  const env = { ...process.env, FERRY_SERVICES_DIR: dir, FERRY_S3_PORT: port, FERRY_S3_STORE: 'memstore', FERRY_S3_SIZE: String(6 * 1024 ** 3) };
  const stop = async () => {
    await run('bash', [S3_SH, 'stop'], { env }).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await run('bash', [S3_SH, 'start'], { env, maxBuffer: 1 << 24 });
  } catch (e) {
    await stop();
    throw new Error(`the private S3 server for ${name} did not start on port ${port}: ${(e as { stderr?: string }).stderr ?? e}`);
  }
  const { stdout } = await run('bash', [S3_SH, 'env'], { env });
  const vars = Object.fromEntries([...stdout.matchAll(/(FERRY_TEST_S3_\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));
  return {
    endpoint: vars.FERRY_TEST_S3_ENDPOINT,
    accessKey: vars.FERRY_TEST_S3_ACCESS_KEY,
    secretKey: vars.FERRY_TEST_S3_SECRET_KEY,
    dir: vars.FERRY_TEST_S3_DIR,
    env: { ...env, CEPH_CONF: join(vars.FERRY_TEST_S3_DIR, 'ceph.conf') },
    stop,
  };
}

/** The server test-all started (FERRY_TEST_S3_*), for rows that leave it as it was. */
export function sharedS3(): S3TestServer {
  return s3TestServer();
}

/** A fresh bucket on `server`, and a client with the server's own keys to inspect and drop it. */
export async function bucketOn(server: S3TestServer, prefix: string): Promise<{ bucket: string; s3: S3Client; drop(): Promise<void> }> {
  const s3 = adminClient(server);
  const bucket = await createBucket(s3, prefix);
  return {
    bucket,
    s3,
    drop: async () => {
      await dropBucket(s3, bucket).catch(() => {});
      s3.destroy();
    },
  };
}

/** Environment for a `ferry` process reaching `server` with its keys. */
export function ferryEnv(server: S3TestServer, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env, AWS_ACCESS_KEY_ID: server.accessKey, AWS_SECRET_ACCESS_KEY: server.secretKey, AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: server.endpoint, AWS_PROFILE: '', AWS_SESSION_TOKEN: '', ...extra,
  };
}

/**
 * rclone (Debian's) reads every object of `s3://bucket/prefix` back and compares its bytes with
 * the folder `local`: differences and matches as it counts them, and its own words on failure.
 */
export async function rcloneCheck(server: S3TestServer, local: string, bucket: string, prefix: string): Promise<{ ok: boolean; matching: number; said: string }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env, RCLONE_CONFIG_FAULTS_TYPE: 's3', RCLONE_CONFIG_FAULTS_PROVIDER: 'Ceph', RCLONE_CONFIG_FAULTS_ENDPOINT: server.endpoint,
    RCLONE_CONFIG_FAULTS_ACCESS_KEY_ID: server.accessKey, RCLONE_CONFIG_FAULTS_SECRET_ACCESS_KEY: server.secretKey,
  };
  delete env.AWS_CA_BUNDLE; // rclone 1.60 fails to start when it is set
  const said = await run('rclone', ['check', '--download', '--checkers', '8', local, `faults:${bucket}/${prefix}`], { env, maxBuffer: 1 << 26 })
    .then((r) => ({ ok: true, text: r.stderr }), (e: { stderr?: string }) => ({ ok: false, text: e.stderr ?? String(e) }));
  const matching = Number(/(\d+) matching files/.exec(said.text)?.[1] ?? 0);
  const differences = Number(/(\d+) differences found/.exec(said.text)?.[1] ?? -1);
  return { ok: said.ok && differences === 0, matching, said: said.text.trim().split('\n').slice(-3).join(' | ') };
}

/** Multipart uploads left under the bucket, as the AWS CLI lists them. */
export async function uploadsLeft(server: S3TestServer, bucket: string): Promise<number> {
  return (await awsCliUploads(server, bucket)).length;
}

/** Writes `count` small files (1-20 KB times `scale`, in folders of 500) under `root`; returns their total size. */
export async function smallFiles(root: string, count: number, seed = 'f', scale = 1): Promise<number> {
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const p = join(root, `d${Math.floor(i / 500)}`, `${seed}${i}.bin`);
    if (i % 500 === 0) await mkdir(dirname(p), { recursive: true });
    const size = (1024 + ((i * 7919) % 19) * 1024) * scale;
    await writeFile(p, content(`${seed}${i}`, size));
    bytes += size;
  }
  return bytes;
}

/** A file of `size` bytes that differ at every position of a part, written 16 MiB at a time. */
export async function bigFile(path: string, size: number, seed: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const fh = await open(path, 'w');
  try {
    const block = 16 * 1024 * 1024;
    for (let at = 0; at < size; at += block) {
      const piece = patternBytes(Math.min(block, size - at), seed * 100_003 + at / block);
      await fh.write(piece, 0, piece.length, at);
    }
  } finally {
    await fh.close();
  }
}
