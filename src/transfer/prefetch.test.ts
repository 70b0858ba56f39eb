import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { prefetch } from './prefetch.ts';

async function* counting(n: number, produced: { count: number }, failAt?: number) {
  for (let i = 0; i < n; i++) {
    if (i === failAt) throw new Error(`listing failed at ${i}`);
    produced.count++;
    yield i;
  }
}

test('reads ahead while the consumer is busy elsewhere, but never past the limit', async () => {
  const produced = { count: 0 };
  const p = prefetch(counting(100, produced), 10);
  for (let i = 0; i < 20; i++) await tick();
  assert.equal(produced.count, 10, 'ran ahead by exactly the limit');
  const got: number[] = [];
  for await (const v of p) got.push(v);
  assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => i));
});

test('a listing error reaches the consumer after the entries before it', async () => {
  const p = prefetch(counting(10, { count: 0 }, 5), 100);
  const got: number[] = [];
  await assert.rejects(async () => {
    for await (const v of p) got.push(v);
  }, /listing failed at 5/);
  assert.deepEqual(got, [0, 1, 2, 3, 4]);
});

test('return() stops the walk of a run that ends early', async () => {
  const produced = { count: 0 };
  const p = prefetch(counting(1_000_000, produced), 5);
  await tick();
  await p.return();
  const at = produced.count;
  for (let i = 0; i < 20; i++) await tick();
  assert.ok(produced.count <= at + 1, `kept walking after return: ${at} -> ${produced.count}`);
  assert.ok(produced.count < 100);
});
