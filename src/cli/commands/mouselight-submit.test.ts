// ferry mouselight upload --submit: images run here, the cluster products on workers of the local
// Slurm (scripts/services/slurm.sh) or of the LSF stand-ins in scripts/lsf that forward to it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openLedger } from '../../ledger/open.ts';
import { expectedObjects, sampleLayout, writeSampleFacility } from '../../testing/mouselight-facility.ts';
import { jsonLines, runFerry } from '../../testing/cli.ts';
import { snapshot } from '../../testing/tree.ts';
import { QUEUE_SAFETY_NET_MS, until } from '../../testing/until.ts';

const LSF_BIN = fileURLToPath(new URL('../../../scripts/lsf', import.meta.url));
if (!process.env.SLURM_CONF) {
  throw new Error('SLURM_CONF is not set: start Slurm with `bash scripts/services/slurm.sh start` and run `eval "$(bash scripts/services/slurm.sh env)"`');
}

const DATES = ['2023-05-10', '2019-01-23'];
let dir: string;
let bucket: string;
let files: Map<string, Buffer>;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-ml-submit-'));
  bucket = join(dir, 'bucket');
  files = await writeSampleFacility(join(dir, 'facility'), DATES);
  await writeFile(join(dir, 'layout.yaml'), sampleLayout(join(dir, 'facility'), `file://${bucket}`));
});

after(() => rm(dir, { recursive: true, force: true }));

const ledgerFile = () => join(dir, 'ledger.sqlite');

/** Waits until the cluster run has nothing left to do; returns its jobs. */
async function clusterJobs(date: string) {
  const ledger = await openLedger(ledgerFile());
  try {
    const run = await ledger.getRun(`mouselight-${date}-cluster`);
    let jobs: Awaited<ReturnType<typeof ledger.listJobs>> = [];
    return await until(() => `the cluster jobs of ${date} to end: ${JSON.stringify(jobs.map((j) => [j.key, j.state]))}`, async () => {
      jobs = await ledger.listJobs({ runId: run.id });
      return jobs.every((j) => j.state !== 'todo' && j.state !== 'ongoing') && jobs;
    }, QUEUE_SAFETY_NET_MS, 250);
  } finally {
    await ledger.close();
  }
}

for (const [i, scheduler] of (['slurm', 'lsf'] as const).entries()) {
  test(`--submit ${scheduler}: images here, registration and tracings on cluster workers, all verified`, async () => {
    const date = DATES[i];
    const env = { FERRY_WORKDIR: join(dir, '.ferry'), FERRY_LEDGER: ledgerFile(), PATH: scheduler === 'lsf' ? `${LSF_BIN}:${process.env.PATH}` : process.env.PATH };
    const r = await runFerry(['--json', 'mouselight', 'upload', '--config', 'layout.yaml', '--sample', date, '--products', 'images,registration,tracings', '--submit', scheduler, '--time', '10'], { cwd: dir, env });
    assert.equal(r.code, 0, r.stderr);
    const lines = jsonLines(r.stdout);
    const submitted = lines.find((l) => l.type === 'submitted');
    assert.ok(submitted, r.stdout);
    assert.equal(submitted.workers, 3);
    assert.equal(submitted.run, `mouselight-${date}-cluster`);
    const jobs = lines.filter((l) => l.type === 'job');
    // The local part is done when the command returns; the cluster part is queued, not run here.
    assert.deepEqual(jobs.filter((j) => j.key.startsWith('images/')).map((j) => j.state), ['success', 'success']);

    const cluster = await clusterJobs(date);
    assert.deepEqual(cluster.map((j) => [j.key, j.state]).sort(), [['registration', 'success'], ['tracings/Finished_Neurons', 'success'], ['tracings/tracing_complete', 'success']]);
    const logs = await readdir(join(dir, '.ferry', 'logs'));
    const mine = await Promise.all(logs.map((f) => readFile(join(dir, '.ferry', 'logs', f), 'utf8')));
    assert.ok(mine.some((t) => new RegExp(`${scheduler === 'lsf' ? 'lsf' : 'slurm'} ${submitted.jobId}`).test(t)), 'a worker ran under the scheduler');

    const expected = [...expectedObjects(files, [date])].filter(([k]) => /^(images|registration|tracings)\//.test(k));
    const inBucket = await snapshot(bucket);
    for (const [key, body] of expected) assert.equal(inBucket.get(key)?.sha256, createHash('sha256').update(body).digest('hex'), `${key} in the bucket`);
    assert.ok(![...inBucket.keys()].some((k) => k.startsWith(`segmentation/${date}`) || k.startsWith(`carveouts/${date}`)));
  });
}
