import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ByteBudget } from './byte-budget.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('holds at most the budget, grants in arrival order, and lets an oversized request through alone', async () => {
  const budget = new ByteBudget(100);
  const granted: string[] = [];
  const take = (name: string, bytes: number) => budget.take(bytes).then((release) => (granted.push(name), release));
  const a = await take('a', 60);
  const b = take('b', 60); // must wait for a
  const c = take('c', 10); // fits, but b came first
  await tick();
  assert.deepEqual(granted, ['a']);
  a();
  const releaseB = await b;
  const releaseC = await c;
  assert.deepEqual(granted, ['a', 'b', 'c']);
  const big = take('big', 500); // larger than the whole budget: waits until nothing is held
  await tick();
  assert.deepEqual(granted, ['a', 'b', 'c']);
  releaseB();
  releaseC();
  releaseC(); // a second release is ignored, not counted twice
  (await big)();
  assert.deepEqual(granted, ['a', 'b', 'c', 'big']);
});

test('a waiter whose signal aborts leaves the queue, and those behind it go on', async () => {
  const budget = new ByteBudget(10);
  const first = await budget.take(10);
  const stop = new AbortController();
  const aborted = budget.take(5, stop.signal);
  const behind = budget.take(5);
  stop.abort(new Error('stopped'));
  await assert.rejects(aborted, /stopped/);
  first();
  (await behind)();
});

test('raising the cap lets a waiter through at once', async () => {
  const budget = new ByteBudget(10);
  const first = await budget.take(10);
  let granted = false;
  const waiting = budget.take(10).then((release) => ((granted = true), release));
  await tick();
  assert.equal(granted, false);
  budget.atLeast(20);
  (await waiting)();
  first();
  assert.equal(granted, true);
});

test('tryTake holds what fits now, and never passes a waiter or the cap', async () => {
  const budget = new ByteBudget(100);
  const a = budget.tryTake(60);
  assert.ok(a, 'fits in an empty budget');
  assert.equal(budget.tryTake(60), undefined, 'would pass the cap');
  const waiter = budget.take(50);
  assert.equal(budget.tryTake(10), undefined, 'fits, but someone is waiting');
  a();
  const released = await waiter;
  const c = budget.tryTake(50);
  assert.ok(c, 'fits beside the granted waiter');
  released();
  c();
  assert.equal(budget.tryTake(200), undefined, 'larger than the whole budget: only take() lets it through, alone');
});
