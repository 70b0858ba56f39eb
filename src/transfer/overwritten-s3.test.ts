// Objects overwritten at an S3 destination behind Ferry's back with other bytes of the same size,
// against the real Ceph, through the `ferry` command: only reading (or a digest the server itself
// vouches for) may call them equal. The AWS SDK is the other writer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { adminClient, createBucket, dropBucket, s3TestServer, serverEnv } from '../testing/s3.ts';
import type { S3TestServer } from '../testing/s3.ts';
import { jsonLines, runFerry } from '../testing/cli.ts';
import { makeTree, tempDir } from '../testing/tree.ts';

let server: S3TestServer;
let s3: S3Client;
let bucket: string;

before(async () => {
  server = s3TestServer();
  s3 = adminClient(server);
  bucket = await createBucket(s3, 'overwritten');
});
after(async () => {
  await dropBucket(s3, bucket).catch(() => {});
  s3.destroy();
});

test("objects overwritten with the same size, one keeping Ferry's metadata: check --checksum names them, sync --checksum repairs them", async () => {
  const dir = await tempDir();
  const src = join(dir, 'src');
  await makeTree(src, 12, 3000, 4);
  const env = { ...serverEnv(server), FERRY_LEDGER: join(dir, 'ledger.sqlite') };
  const dst = `s3://${bucket}/t`;
  assert.equal((await runFerry(['cp', src, dst], { env })).code, 0);

  const victims = ['d0/f1.bin', 'd1/f5.bin'];
  for (const [i, key] of victims.entries()) {
    const bytes = await readFile(join(src, key));
    bytes[bytes.length >> 1] ^= 0xff;
    // The second keeps Ferry's metadata, whose CRC32C note then describes other bytes.
    const meta = i === 1 ? (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `t/${key}` }))).Metadata : undefined;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `t/${key}`, Body: bytes, Metadata: meta }));
  }

  const plain = await runFerry(['check', src, dst], { env });
  assert.equal(plain.code, 0, 'sizes alone cannot see it');
  assert.match(plain.stdout, /by size only: contents not read/);
  assert.doesNotMatch(plain.stdout, /identical/);

  const deep = await runFerry(['check', '--checksum', src, dst, '--json'], { env });
  assert.equal(deep.code, 1);
  assert.deepEqual(jsonLines(deep.stdout).find((e) => e.type === 'check')!.differing.map((d: { key: string }) => d.key).sort(), victims);

  const repaired = await runFerry(['sync', '--checksum', src, dst, '--json'], { env });
  assert.equal(repaired.code, 0, repaired.stderr);
  const events = jsonLines(repaired.stdout);
  assert.deepEqual(events.filter((e) => e.type === 'copied').map((e) => e.key).sort(), victims);
  const sum = events.find((e) => e.type === 'summary')!;
  assert.equal(sum.verifiedFiles, 12);

  const proven = await runFerry(['check', '--checksum', src, dst], { env });
  assert.equal(proven.code, 0, proven.stdout);
  assert.match(proven.stdout, /12 files compared, 12 matching/);
});
