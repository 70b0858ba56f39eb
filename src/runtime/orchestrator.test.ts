import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { openLedger } from '../ledger/open.ts';
import { tempDir } from '../testing/tree.ts';
import { Orchestrator } from './orchestrator.ts';
import { defineRecipe } from './recipe.ts';

const recipe = defineRecipe<Record<string, string | number>>({
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
  const o = new Orchestrator(ledger, { names: () => ['r'], load: async () => recipe });
  try {
    assert.equal((await o.plan(recipe, { dst: '/x' })).runs[0].added, 1);
    assert.equal((await o.plan(recipe, { dst: '/x' })).runs[0].added, 0);
    // A newer Ferry records more: the run planned before goes on.
    assert.equal((await o.plan(recipe, { dst: '/x', layout: 'abc' })).runs[0].added, 0);
    await assert.rejects(o.plan(recipe, { dst: '/y', layout: 'abc' }), /run run was planned before with other settings: dst: "\/x" then, "\/y" now$/);
    await assert.rejects(o.plan(recipe, {}), /dst: "\/x" then, null now/);
  } finally {
    await o.close();
  }
});
