// ferry mouselight upload against the real S3 server (scripts/services/s3.sh): a generated facility
// with two sample dates, every product uploaded, and the bucket checked object by object.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { expectedObjects, sampleLayout, writeSampleFacility } from '../../testing/mouselight-facility.ts';
import { adminClient, createBucket, dropBucket, s3TestServer, serverEnv } from '../../testing/s3.ts';
import { jsonLines, runFerry } from '../../testing/cli.ts';

const server = s3TestServer();
const DATES = ['2023-05-10', '2019-01-23'];
let admin: S3Client;
let bucket: string;
let dir: string;
let files: Map<string, Buffer>;
const firstJobs = new Map<string, number>();

before(async () => {
  admin = adminClient(server);
  bucket = await createBucket(admin, 'ferry-mouselight');
  dir = await mkdtemp(join(tmpdir(), 'ferry-ml-s3-'));
  files = await writeSampleFacility(join(dir, 'facility'), DATES);
  await writeFile(join(dir, 'layout.yaml'), sampleLayout(join(dir, 'facility'), `s3://${bucket}`));
});

after(async () => {
  await dropBucket(admin, bucket);
  admin.destroy();
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({
  ...serverEnv(server),
  FERRY_WORKDIR: join(dir, '.ferry'),
  FERRY_LEDGER: join(dir, 'ledger.sqlite'),
});

const upload = (date: string, ...extra: string[]) =>
  runFerry(['--json', 'mouselight', 'upload', '--config', 'layout.yaml', '--sample', date,
    '--products', 'images,registration,segmentation,tracings,carveouts', '--subfolder', 'stitching-output', ...extra], { cwd: dir, env: env() });

async function bucketObjects(): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  let token: string | undefined;
  do {
    const page = await admin.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      const body = await admin.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }));
      out.set(o.Key!, Buffer.from(await body.Body!.transformToByteArray()));
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

test('two sample dates upload every product, and the bucket holds exactly the expected objects', async () => {
  for (const date of DATES) {
    const r = await upload(date);
    assert.equal(r.code, 0, r.stderr);
    const lines = jsonLines(r.stdout);
    const jobs = lines.filter((l) => l.type === 'job');
    assert.deepEqual(jobs.map((j) => j.key).sort(), [
      'carveouts/mouselight', 'carveouts/mouselight-v2', 'images/files', 'images/ktx', 'registration',
      'segmentation/stitching-output', 'tracings/Finished_Neurons', 'tracings/tracing_complete',
    ]);
    assert.ok(jobs.every((j) => j.state === 'success'), JSON.stringify(jobs));
    for (const j of jobs) firstJobs.set(`${date} ${j.key}`, j.id);
  }
  const expected = expectedObjects(files, DATES);
  const actual = await bucketObjects();
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
  for (const [key, body] of expected) assert.ok(actual.get(key)!.equals(body), `${key} differs from its source`);
  // The archive copy of the second date was found through the second base folder.
  assert.ok(actual.has(`images/${DATES[1]}/ktx/block_8_xy_.ktx`));
  assert.ok(!actual.has(`images/${DATES[0]}/render.log`));
});

test('uploading a sample again plans nothing new: the same verified jobs answer', async () => {
  const before = await bucketObjects();
  const r = await upload(DATES[0]);
  assert.equal(r.code, 0, r.stderr);
  const lines = jsonLines(r.stdout);
  assert.equal(lines.find((l) => l.type === 'planned')!.added, 0);
  const jobs = lines.filter((l) => l.type === 'job');
  assert.equal(jobs.length, 8);
  for (const j of jobs) {
    assert.equal(j.state, 'success');
    assert.equal(j.id, firstJobs.get(`${DATES[0]} ${j.key}`));
  }
  assert.deepEqual(await bucketObjects(), before);
});

test('--resync sends what the sources of a finished sample gained since, in the same jobs', async () => {
  const added = join(dir, 'facility', 'groups/registration/Database', DATES[0], 'late.csv');
  await writeFile(added, 'added after the first upload\n');
  const plain = await upload(DATES[0]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal((await bucketObjects()).has(`registration/${DATES[0]}/late.csv`), false, 'without --resync, finished jobs answer from the ledger');
  const r = await upload(DATES[0], '--resync');
  assert.equal(r.code, 0, r.stderr);
  const jobs = jsonLines(r.stdout).filter((l) => l.type === 'job');
  assert.ok(jobs.every((j) => j.state === 'success' && j.id === firstJobs.get(`${DATES[0]} ${j.key}`)));
  const objects = await bucketObjects();
  assert.equal(objects.get(`registration/${DATES[0]}/late.csv`)?.toString(), 'added after the first upload\n');
  await rm(added);
});

test('ferry status shows each sample run with every job done', async () => {
  const r = await runFerry(['--json', 'status'], { cwd: dir, env: env() });
  assert.equal(r.code, 0, r.stderr);
  const runs = new Map(jsonLines(r.stdout).filter((l) => l.type === 'run-status').map((s) => [s.run.name, s.counts]));
  for (const d of DATES) {
    assert.deepEqual({ total: runs.get(`mouselight-${d}`)?.total, success: runs.get(`mouselight-${d}`)?.success }, { total: 2, success: 2 });
    assert.deepEqual({ total: runs.get(`mouselight-${d}-cluster`)?.total, success: runs.get(`mouselight-${d}-cluster`)?.success }, { total: 6, success: 6 });
  }
  const human = await runFerry(['status'], { cwd: dir, env: env() });
  assert.match(human.stdout, /mouselight-2023-05-10-cluster\s+6\s+0\s+0\s+6/);
});

test('neuron metadata is built from the tracings just uploaded to S3 and written back, verified', async () => {
  const answer = {
    data: {
      injections: [
        { sample: { sampleDate: Date.parse('2023-05-10T00:00:00Z') }, neurons: [{ idString: 'AA1001', tag: 'G-001' }, { idString: 'AA1002', tag: 'G-002' }], brainArea: { name: 'Primary visual area' } },
        { sample: { sampleDate: Date.parse('2019-01-23T00:00:00Z') }, neurons: [{ idString: 'AA0900', tag: 'G-001' }], brainArea: { name: 'Thalamus' } },
      ],
    },
  };
  await writeFile(join(dir, 'answer.json'), JSON.stringify(answer));
  const r = await runFerry(['mouselight', 'neurons', '--config', 'layout.yaml', '--answer', 'answer.json', '--write'], { cwd: dir, env: env() });
  assert.equal(r.code, 0, r.stderr);
  const objects = await bucketObjects();
  const read = (key: string) => JSON.parse(objects.get(key)?.toString('utf8') ?? 'null');
  const swc = (d: string, n: string, kind: string, location = 'tracing_complete') => `../../tracings/${location}/${d}/${n}/${kind}.swc`;
  const complete = {
    title: '2023-05-10 MouseLight published neurons',
    neurons: {
      AA1001: { originalName: 'G-001', somaLocation: 'Secondary motor area, layer 5\n', injectionLocation: 'Primary visual area', consensus: swc(DATES[0], 'G-001', 'consensus'), dendrite: swc(DATES[0], 'G-001', 'dendrite') },
      AA1002: { originalName: 'G-002', consensus: swc(DATES[0], 'G-002', 'consensus') },
    },
  };
  assert.deepEqual(read('neurons/tracing_complete/2023-05-10/metadata.json'), complete);
  assert.deepEqual(read('images/2023-05-10/neurons.json'), complete);
  for (const [d, id] of [[DATES[0], 'AA1001'], [DATES[1], 'AA0900']]) {
    assert.deepEqual(read(`neurons/Finished_Neurons/${d}/metadata.json`), {
      title: `${d} MouseLight published neurons`,
      neurons: { [id]: { originalName: 'G-001', consensus: swc(d, 'G-001', 'consensus', 'Finished_Neurons') } },
    });
  }
  assert.equal([...objects.keys()].filter((k) => k.startsWith('neurons/') || k.endsWith('neurons.json')).length, 6);
});
