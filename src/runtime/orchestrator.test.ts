// The orchestrator's plan and run rules. Runs with stages: the orchestrator runs a stage's jobs only once every job of the stage before it
// has ended, whatever order the jobs were planned in, and a stage that leaves a failure stops there.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FerryError } from '../errors.ts';
import { openLedger } from '../ledger/open.ts';
import { tempDir } from '../testing/tree.ts';
import { Orchestrator } from './orchestrator.ts';
import type { RecipeCatalog } from './orchestrator.ts';
import { defineRecipe } from './recipe.ts';
import type { Handler } from './registry.ts';

const dir = await tempDir('ferry-orchestrator-');
after(() => rm(dir, { recursive: true, force: true }));

/** What ran, in order: "start a1", "end a1", ... */
const trace: string[] = [];
let firstStageWaiting: (() => void)[] = [];

// A first-stage job ends only once all three of its stage are running at once, so the test also
// shows that a stage's jobs run in parallel.
const first: Handler<{ fail?: boolean }> = {
  async run(ctx, p) {
    trace.push(`start ${ctx.key}`);
    await new Promise<void>((resolve) => {
      firstStageWaiting.push(resolve);
      if (firstStageWaiting.length === 3) for (const r of firstStageWaiting.splice(0)) r();
    });
    trace.push(`end ${ctx.key}`);
    if (p.fail) throw new FerryError(`${ctx.key} failed as asked`, { kind: 'item' });
    return null;
  },
};
const second: Handler = {
  async run(ctx) {
    trace.push(`start ${ctx.key}`);
    return null;
  },
};

const recipe = defineRecipe<{ run: string; fail: boolean }>({
  name: 'staged',
  title: 'a run in two stages',
  input: { parse: (raw) => raw as { run: string; fail: boolean } },
  kinds: { 'staged.first': async () => first, 'staged.second': async () => second },
  async plan(input) {
    // Interleaved on purpose: workers claim in id order, so only the stages keep the order.
    const jobs = ['a1', 'b1', 'a2', 'b2', 'a3'].map((key) => ({
      kind: key.startsWith('a') ? 'staged.first' : 'staged.second',
      key,
      params: { fail: input.fail && key === 'a2' },
      maxAttempts: 1,
    }));
    return { runs: [{ name: input.run, jobs, stages: [['staged.first'], ['staged.second']] }], warnings: [] };
  },
});
const catalog: RecipeCatalog = { names: () => ['staged'], load: async (n) => (n === 'staged' ? recipe : undefined) };

async function execute(input: { run: string; fail: boolean }) {
  trace.length = 0;
  firstStageWaiting = [];
  const o = new Orchestrator(() => openLedger(join(dir, 'ledger.sqlite')), catalog);
  try {
    const e = await o.execute(recipe, input, { run: 'here', concurrency: 3 });
    const ledger = await o.ledger();
    const jobs = await ledger.listJobs({ runId: e.outcome.runs[0].run.id });
    return { e, states: Object.fromEntries(jobs.map((j) => [j.key, j.state])) };
  } finally {
    await o.close();
  }
}

test('every job of a stage ends before the next stage starts, and a stage runs its jobs together', async () => {
  const { e, states } = await execute({ run: 'ok', fail: false });
  assert.equal(e.exitCode, 0);
  assert.deepEqual(states, { a1: 'success', b1: 'success', a2: 'success', b2: 'success', a3: 'success' });
  const lastFirstEnd = Math.max(...['a1', 'a2', 'a3'].map((k) => trace.indexOf(`end ${k}`)));
  const firstSecondStart = Math.min(trace.indexOf('start b1'), trace.indexOf('start b2'));
  assert.ok(lastFirstEnd < firstSecondStart, trace.join(', '));
});

test('a stage that leaves a job failed stops the run there: the next stage waits for the next command', async () => {
  const { e, states } = await execute({ run: 'stops', fail: true });
  assert.equal(e.exitCode, 1);
  assert.deepEqual(states, { a1: 'success', b1: 'todo', a2: 'error', b2: 'todo', a3: 'success' });
  assert.deepEqual(trace.filter((t) => t.startsWith('start b')), []);
});

// Run identity: what a run was planned from.
const identityRecipe = defineRecipe<Record<string, string | number>>({
  name: 'r',
  title: 'a run whose identity is its input',
  input: { parse: (raw) => raw as Record<string, string | number> },
  kinds: {},
  async plan(identity) {
    return { runs: [{ name: 'run', identity, jobs: [{ kind: 'noop', key: 'k' }] }], warnings: [] };
  },
});

test('a run planned again: the same identity adds nothing, another is refused naming what differs, a field an older plan did not record is not a difference', async () => {
  const ledger = await openLedger(join(await tempDir('ferry-orchestrator-'), 'ledger.sqlite'));
  const o = new Orchestrator(ledger, { names: () => ['r'], load: async () => identityRecipe });
  try {
    assert.equal((await o.plan(identityRecipe, { dst: '/x' })).runs[0].added, 1);
    assert.equal((await o.plan(identityRecipe, { dst: '/x' })).runs[0].added, 0);
    // A newer Ferry records more: the run planned before goes on.
    assert.equal((await o.plan(identityRecipe, { dst: '/x', layout: 'abc' })).runs[0].added, 0);
    await assert.rejects(o.plan(identityRecipe, { dst: '/y', layout: 'abc' }), /run run was planned before with other settings: dst: "\/x" then, "\/y" now$/);
    await assert.rejects(o.plan(identityRecipe, {}), /dst: "\/x" then, null now/);
  } finally {
    await o.close();
  }
});
