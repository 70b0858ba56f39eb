// Multipart uploads as a user meets them, through the `ferry` command against the real Ceph: a copy
// killed mid-upload is resumed by the next one, from another folder, with the journal beside a
// SQLite ledger or in a PostgreSQL ledger another machine shares; a re-run that finds a file
// complete aborts what a killed worker left of it; what an older Ferry journaled is resumed; and
// `ferry cleanup` lists and aborts Ferry's leftovers but not another tool's. The AWS CLI is the
// independent witness of what the server still holds.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateMultipartUploadCommand, GetObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { freshLedger } from '../testing/ledger.ts';
import { openTransferState } from '../ledger/transfer-state/open.ts';
import { crc32cOf, crc32cToBase64 } from '../storage/checksum.ts';
import { adminClient, awsCliEnv, awsCliUploads, createBucket, dropBucket, patternBytes, s3TestServer, serverEnv } from '../testing/s3.ts';
import type { JournaledUpload } from '../storage/upload-journal.ts';
import { collect, jsonLines, runFerry, startFerry } from '../testing/cli.ts';
import { tempDir } from '../testing/tree.ts';
import { until } from '../testing/until.ts';

const MIB = 1024 * 1024;
const server = s3TestServer();
let admin: S3Client;
const buckets: string[] = [];

before(() => {
  admin = adminClient(server);
});
after(async () => {
  for (const b of buckets) await dropBucket(admin, b).catch(() => {});
  admin.destroy();
});

async function bucket(): Promise<string> {
  const b = await createBucket(admin, 'ferry-uploads');
  buckets.push(b);
  return b;
}

const PARTS = ['--multipart-threshold', '5M', '--part-size', '5M', '--part-concurrency', '1'];
/** Slow enough (about 2 s a part) for the test to see parts journaled before it kills the copy. */
const SLOW = [...PARTS, '--bwlimit', '3M'];

/** A 26 MiB file: six parts of 5 MiB. */
async function bigFile(): Promise<{ dir: string; file: string; data: Buffer }> {
  const dir = await tempDir('ferry-uploads-');
  const data = patternBytes(26 * MIB + 7, 3);
  const file = join(dir, 'stack.raw');
  await writeFile(file, data);
  return { dir, file, data };
}

/** Journal rows of one key, read the way `ferry cp` reads them. */
async function rowsOf(ledger: string, b: string, key: string): Promise<JournaledUpload[]> {
  const state = await openTransferState(ledger);
  try {
    return await state.uploads.uploadsOf({ endpoint: server.endpoint, bucket: b, key });
  } finally {
    await state.close();
  }
}

async function objectSha(b: string, key: string): Promise<string> {
  const got = await admin.send(new GetObjectCommand({ Bucket: b, Key: key }));
  return createHash('sha256').update(await got.Body!.transformToByteArray()).digest('hex');
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Starts a slow copy and kills it once `parts` parts are journaled; the upload is then left open. */
async function killedCopy(file: string, dst: string, key: string, env: NodeJS.ProcessEnv, ledger: string, b: string, parts = 2): Promise<void> {
  const child = startFerry(['cp', file, dst, ...SLOW], { env });
  const done = collect(child);
  let ended = false;
  void done.then(() => (ended = true));
  await until(`${parts} parts journaled`, async () => {
    if (ended) assert.fail(`the copy ended before it was killed: ${JSON.stringify(await done)}`);
    return (await rowsOf(ledger, b, key)).some((r) => r.parts.length >= parts);
  }, 120_000);
  child.kill('SIGKILL');
  assert.equal((await done).signal, 'SIGKILL');
}

for (const engine of ['sqlite', 'postgres'] as const) {
  test(`a copy killed mid-upload is resumed by the next one from another folder (journal in a ${engine} ledger)`, async () => {
    const where = await freshLedger(engine);
    const { file, data } = await bigFile();
    const b = await bucket();
    const env = { ...serverEnv(server), FERRY_LEDGER: where.url };
    try {
      await killedCopy(file, `s3://${b}/raw/`, 'raw/stack.raw', env, where.url, b);
      assert.equal((await awsCliUploads(server, b)).length, 1, 'the killed copy left its upload open');

      // Another folder, as another node of the cluster would be: only the ledger is shared.
      const r = await runFerry(['cp', file, `s3://${b}/raw/`, '--json', ...PARTS], { env, cwd: await tempDir() });
      assert.equal(r.code, 0, r.stderr);
      const copied = jsonLines(r.stdout).find((e) => e.type === 'copied')!;
      assert.ok(copied.partsReused >= 2, `parts sent before the kill were reused (${copied.partsReused})`);
      assert.equal(await objectSha(b, 'raw/stack.raw'), sha(data));
      assert.deepEqual(await awsCliUploads(server, b), []);
      assert.deepEqual(await rowsOf(where.url, b, 'raw/stack.raw'), []);
    } finally {
      await where.dispose();
    }
  });
}

test('a re-run that finds a file complete aborts the uploads killed workers left of it, journaled or not', async () => {
  const where = await freshLedger('sqlite');
  const { file } = await bigFile();
  const b = await bucket();
  const env = { ...serverEnv(server), FERRY_LEDGER: where.url };
  try {
    assert.equal((await runFerry(['cp', file, `s3://${b}/raw/`, ...PARTS], { env })).code, 0);
    // Left by workers killed after the file was completed by another: one had journaled its
    // upload, one was killed while the server was answering its CreateMultipartUpload.
    const state = await openTransferState(where.url);
    const intent = { endpoint: server.endpoint, bucket: b, key: 'raw/stack.raw', sourceSize: 1, sourceMtimeMs: 1, partSize: 5 * MIB, owner: 'node2/7', startedAt: Date.now() };
    const journaled = (await admin.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'raw/stack.raw' }))).UploadId!;
    await state.uploads.created(await state.uploads.begin(intent), intent, journaled, Date.now(), false);
    await state.uploads.begin(intent);
    await admin.send(new CreateMultipartUploadCommand({ Bucket: b, Key: 'raw/stack.raw' }));
    await state.close();
    assert.equal((await awsCliUploads(server, b)).length, 2);

    const r = await runFerry(['cp', file, `s3://${b}/raw/`, '--json', ...PARTS], { env });
    assert.equal(r.code, 0, r.stderr);
    const summary = jsonLines(r.stdout).find((e) => e.type === 'summary')!;
    assert.equal(summary.skippedFiles, 1, 'nothing is sent again');
    assert.deepEqual(await awsCliUploads(server, b), []);
    assert.deepEqual(await rowsOf(where.url, b, 'raw/stack.raw'), []);
  } finally {
    await where.dispose();
  }
});

test("ferry cleanup lists Ferry's leftover uploads and another tool's, and aborts only Ferry's unless asked", async () => {
  const where = await freshLedger('sqlite');
  const { file } = await bigFile();
  const b = await bucket();
  const env = { ...serverEnv(server), FERRY_LEDGER: where.url };
  try {
    await killedCopy(file, `s3://${b}/raw/`, 'raw/stack.raw', env, where.url, b, 1);
    await promisify(execFile)('/usr/bin/aws', ['s3api', 'create-multipart-upload', '--bucket', b, '--key', 'raw/other.bin', '--endpoint-url', server.endpoint], { env: awsCliEnv(server) });
    const origins = async (args: string[] = []) => {
      const r = await runFerry(['cleanup', `s3://${b}/raw/`, '--json', ...args], { env });
      assert.equal(r.code, 0, r.stderr);
      return Object.fromEntries(jsonLines(r.stdout).filter((e) => e.type === 'upload').map((e) => [e.key, `${e.origin}${e.action ? `: ${e.action}` : ''}`]));
    };

    const listed = await runFerry(['cleanup', `s3://${b}/raw/`], { env });
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^journaled +stack\.raw /m);
    assert.match(listed.stdout, /^foreign +other\.bin /m);
    assert.match(listed.stdout, /2 unfinished upload\(s\)/);
    assert.match(listed.stdout, /1 Ferry's, journaled \(a re-run of the same copy resumes it\)/);
    assert.match(listed.stdout, /abort Ferry's with: ferry cleanup .* --abort/);

    assert.match((await origins(['--abort']))['stack.raw'], /^journaled: left \(active .* ago\)$/, 'a young upload may belong to a copy running now');
    assert.equal((await awsCliUploads(server, b)).length, 2);
    assert.deepEqual(await origins(['--abort', '--older-than', '0']), {
      'stack.raw': 'journaled: aborted',
      'other.bin': "foreign: left (another tool's: --all aborts it)",
    });
    assert.deepEqual((await awsCliUploads(server, b)).map((u) => u.key), ['raw/other.bin']);
    assert.deepEqual(await rowsOf(where.url, b, 'raw/stack.raw'), []);
    assert.deepEqual(await origins(['--abort', '--older-than', '0', '--all']), { 'other.bin': 'foreign: aborted' });
    assert.deepEqual(await awsCliUploads(server, b), []);

    const local = await runFerry(['cleanup', await tempDir()], { env });
    assert.equal(local.code, 0, local.stderr);
    assert.match(local.stdout, /no multipart uploads at file:\/\/.*: only S3 stores keep them/);
  } finally {
    await where.dispose();
  }
});

test('an upload an older Ferry journaled in its working folder is resumed, not sent again', async () => {
  const { dir, file, data } = await bigFile();
  const b = await bucket();
  const key = 'raw/stack.raw';
  const mtimeMs = (await stat(file)).mtimeMs;
  // What an older Ferry left when it was killed after two parts: the upload, and its JSON journal.
  const uploadId = (await admin.send(new CreateMultipartUploadCommand({ Bucket: b, Key: key, ChecksumAlgorithm: 'CRC32C', ChecksumType: 'FULL_OBJECT' }))).UploadId!;
  const parts = [];
  for (const partNumber of [1, 2]) {
    const bytes = data.subarray((partNumber - 1) * 5 * MIB, partNumber * 5 * MIB);
    const md5 = createHash('md5').update(bytes).digest();
    const crc32c = crc32cOf(bytes);
    const sent = await admin.send(new UploadPartCommand({
      Bucket: b, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: bytes, ContentMD5: md5.toString('base64'), ChecksumCRC32C: crc32cToBase64(crc32c),
    }));
    parts.push({ partNumber, size: bytes.length, etag: sent.ETag!.replaceAll('"', ''), md5: md5.toString('hex'), crc32c });
  }
  const old = join(dir, 'old-workdir');
  await mkdir(join(old, 'uploads'), { recursive: true });
  await writeFile(join(old, 'uploads', `${createHash('sha256').update(`${server.endpoint}\n${b}\n${key}`).digest('hex').slice(0, 32)}.json`), JSON.stringify({
    version: 1, endpoint: server.endpoint, bucket: b, key, uploadId, sourceSize: data.length, sourceMtimeMs: mtimeMs,
    partSize: 5 * MIB, startedAt: new Date().toISOString(), parts,
  }));

  const env = { ...serverEnv(server), FERRY_WORKDIR: old, FERRY_LEDGER: join(dir, 'ledger', 'ledger.sqlite') };
  const r = await runFerry(['cp', file, `s3://${b}/raw/`, '--json', ...PARTS], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(jsonLines(r.stdout).find((e) => e.type === 'copied')!.partsReused, 2);
  assert.equal(await objectSha(b, key), sha(data));
  assert.deepEqual(await awsCliUploads(server, b), []);
});
