// Workflow records on both engines: keys are unique, a transaction commits whole or not at all, and
// a lock makes check-then-insert safe between two ledgers (two processes) on PostgreSQL.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openLedger } from './open.ts';
import { freshLedger } from '../testing/ledger.ts';

for (const engine of ['sqlite', 'postgres'] as const) {
  describe(`records on ${engine}`, () => {
    test('create takes a key once; put replaces the body and keeps the id; records are read by key, id and key prefix', async () => {
      const loc = await freshLedger(engine);
      const ledger = await openLedger(loc.url);
      try {
        assert.equal(await ledger.records.create({ recipe: 'r', type: 't', key: 'a/1', body: { n: 1 } }), true);
        assert.equal(await ledger.records.create({ recipe: 'r', type: 't', key: 'a/1', body: { n: 2 } }), false);
        const first = (await ledger.records.get<{ n: number }>('r', 't', 'a/1'))!;
        assert.deepEqual(first.body, { n: 1 });
        const put = await ledger.records.put({ recipe: 'r', type: 't', key: 'a/1', body: { n: 3 } });
        assert.deepEqual([put.id, put.body], [first.id, { n: 3 }]);
        await ledger.records.put({ recipe: 'r', type: 't', key: 'a/10', body: {} });
        await ledger.records.put({ recipe: 'r', type: 't', key: 'b/1', body: {} });
        assert.deepEqual((await ledger.records.list({ recipe: 'r', type: 't', keyPrefix: 'a/1' })).map((r) => r.key), ['a/1', 'a/10']);
        assert.deepEqual((await ledger.records.getById('r', 't', first.id))?.key, 'a/1');
        assert.equal(await ledger.records.getById('r', 'other', first.id), undefined);
      } finally {
        await ledger.close();
        await loc.dispose();
      }
    });

    test('a transaction sees its own writes and leaves nothing when it fails', async () => {
      const loc = await freshLedger(engine);
      const ledger = await openLedger(loc.url);
      try {
        const made = await ledger.records.transaction(async (tx) => {
          const a = await tx.create({ recipe: 'r', type: 't', key: 'a', body: { v: 1 } });
          assert.ok(a && a.id > 0);
          assert.equal(await tx.create({ recipe: 'r', type: 't', key: 'a', body: { v: 2 } }), undefined);
          assert.equal(await tx.lock('r', 't', 'a'), true);
          assert.equal(await tx.lock('r', 't', 'missing'), false);
          const b = await tx.put({ recipe: 'r', type: 't', key: 'a', body: { v: 3 } });
          assert.equal(b.id, a.id);
          return b;
        });
        assert.deepEqual((await ledger.records.get('r', 't', 'a'))?.body, made.body);
        await assert.rejects(
          ledger.records.transaction(async (tx) => {
            await tx.create({ recipe: 'r', type: 't', key: 'b', body: {} });
            throw new Error('changed my mind');
          }),
          /changed my mind/,
        );
        assert.equal(await ledger.records.get('r', 't', 'b'), undefined);
      } finally {
        await ledger.close();
        await loc.dispose();
      }
    });
  });
}

test('PostgreSQL: two ledgers checking then inserting under a lock never both insert', async () => {
  const loc = await freshLedger('postgres');
  const a = await openLedger(loc.url);
  const b = await openLedger(loc.url);
  try {
    await a.records.put({ recipe: 'r', type: 'slot', key: 's', body: {} });
    // Each inserts item n+1 only if fewer than one item exists: without the lock both would.
    const claim = (ledger: typeof a, who: string) =>
      ledger.records.transaction(async (tx) => {
        await tx.lock('r', 'slot', 's');
        const items = await tx.list({ recipe: 'r', type: 'item' });
        if (items.length > 0) return false;
        await new Promise((r) => setTimeout(r, 50));
        return (await tx.create({ recipe: 'r', type: 'item', key: who, body: {} })) !== undefined;
      });
    const won = await Promise.all([claim(a, 'a'), claim(b, 'b')]);
    assert.deepEqual(won.filter(Boolean).length, 1);
    assert.equal((await a.records.list({ recipe: 'r', type: 'item' })).length, 1);
  } finally {
    await a.close();
    await b.close();
    await loc.dispose();
  }
});
