// The worker's progress line: finished jobs, and how far the running ones are.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatProgress } from './output.ts';
import { runningDetail } from './output.ts';

test('a worker on a long job says how far the job is, not only "0 jobs"', () => {
  const detail = runningDetail([{ done: 2, total: 4, unit: 'slabs' }, undefined]);
  assert.equal(detail, 'running: 2/4 slabs; starting');
  assert.equal(formatProgress({ unit: 'jobs', done: 0, detail }, 10_000), '0 jobs, 0.0 jobs/s, running: 2/4 slabs; starting');
  assert.equal(runningDetail([{ done: 7, unit: 'files' }]), 'running: 7 files');
  assert.equal(runningDetail(Array(12).fill(undefined)), 'running: 12 jobs');
  assert.equal(runningDetail([]), undefined);
  assert.equal(formatProgress({ unit: 'jobs', done: 5 }, 10_000), '5 jobs, 0.5 jobs/s', 'an idle worker prints no detail');
});
