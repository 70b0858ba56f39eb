// `ferry relion start --scheduler slurm`: the processing job runs as a Slurm job (the shared Slurm of
// scripts/services/slurm.sh) through Ferry's ledger and a worker, RELION inside it.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openLedger } from '../../ledger/open.ts';
import { assertDriftRecovered, recordsOf, relionSite, SMALL, TEMPLATE, waitForJob } from '../../testing/relion-site.ts';
import type { Site } from '../../testing/relion-site.ts';

if (!process.env.SLURM_CONF) throw new Error('SLURM_CONF is not set: start Slurm with `bash scripts/services/slurm.sh start` and run `eval "$(bash scripts/services/slurm.sh env)"`');

let s: Site;
after(() => s?.dispose());

test('--scheduler slurm: a Slurm job runs the worker, RELION runs inside it, and its end is recorded', async () => {
  s = await relionSite();
  const visit = await s.visit('cm28212-6', 2, SMALL);
  const r = await s.ferry(['--json', 'relion', 'start', '--visit', 'cm28212-6', '--image-directory', visit.imageDirectory, '--file-template', TEMPLATE, '--params', await s.params(), '--scheduler', 'slurm', '--time', '10']);
  assert.equal(r.code, 0, r.stderr);
  const started = r.json.find((e) => e.type === 'started')!;
  const submitted = r.json.find((e) => e.type === 'submitted')!;
  assert.equal(submitted.scheduler, 'slurm');
  assert.match(submitted.jobId, /^\d+$/);
  const records = await recordsOf({ ledger: s.ledger });
  try {
    const job = await waitForJob(records, started.processingJobId, 'ended', (j) => j.status === 'success' || j.status === 'failure');
    assert.deepEqual([job.status, job.program?.message], ['success', 'done: 2/2 micrographs motion-corrected']);
  } finally {
    await records.close();
  }
  await assertDriftRecovered(started.projectDir, 2);
  // The worker in the Slurm job started RELION (a local run's worker attaches to the one its command started).
  const ledger = await openLedger(s.ledger);
  try {
    const [job] = await ledger.listJobs({});
    assert.ok((await ledger.events(job.id)).some((e) => e.message === `RELION pipeline started in ${started.projectDir}`));
  } finally {
    await ledger.close();
  }
  const logs = join(s.dir, '.ferry', 'logs');
  const workerLog = (await readdir(logs)).find((f) => f.includes(submitted.jobId));
  assert.ok(workerLog, `a Slurm log of job ${submitted.jobId} in ${logs}`);
  assert.match(await readFile(join(logs, workerLog), 'utf8'), new RegExp(`worker .* slurm ${submitted.jobId}_1 on `));
});
