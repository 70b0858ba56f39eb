// Re-sync of 10,000 unchanged files: the hot path that the manifest exists for. A folder to a
// folder (Ferry's own cost: listing both sides and comparing with its record) and a folder to the
// S3 server, with the transfer state beside a SQLite ledger and, when FERRY_TEST_PG_URL is set, in
// a PostgreSQL ledger. Each re-sync runs REPEAT times; the median wall and CPU seconds are printed.
//
//   npm run bench -- resync        (S3 cases need FERRY_TEST_S3_*; PostgreSQL cases FERRY_TEST_PG_URL)
import { join } from 'node:path';
import pg from 'pg';
import { makeTree } from '../src/testing/tree.ts';
import { cleanup, dropBuckets, endpoint, env, ferry, freshBucket, root, timed } from './lib.ts';
import type { Result } from './lib.ts';

const FILES = 10_000;
const REPEAT = Number(process.env.REPEAT ?? 5);
const src = join(root, 'src');
await makeTree(src, FILES, 4096, 500);

function median(rs: Result[]): Result {
  const by = (k: 'wall' | 'cpu') => [...rs].sort((a, b) => a[k] - b[k])[Math.floor(rs.length / 2)][k];
  return { tool: rs[0].tool, wall: by('wall'), cpu: by('cpu'), ok: rs.every((r) => r.ok) };
}

function resync(name: string, dst: string, ledger: string): Result {
  const e = { ...env, FERRY_LEDGER: ledger };
  const first = timed(`${name}: first copy`, ferry('sync', src, dst), { env: e });
  if (!first.ok) throw new Error(`${name}: the first copy failed`);
  const rs = Array.from({ length: REPEAT }, () => timed(name, ferry('sync', src, dst), { env: e }));
  return median(rs);
}

async function pgDatabase(): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  const base = process.env.FERRY_TEST_PG_URL;
  if (!base) return undefined;
  const name = `ferry_bench_${process.pid}`;
  const admin = async (q: string) => {
    const c = new pg.Client({ connectionString: base });
    await c.connect();
    await c.query(q).finally(() => c.end());
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

const results: Result[] = [];
const sqliteLedger = join(root, 'state', 'ledger.sqlite');
results.push(resync('folder to folder, SQLite ledger', join(root, 'dst'), sqliteLedger));
if (endpoint) results.push(resync('folder to S3, SQLite ledger', `s3://${freshBucket()}/`, sqliteLedger));
const db = await pgDatabase();
try {
  if (db) {
    results.push(resync('folder to folder, PostgreSQL ledger', join(root, 'dst-pg'), db.url));
    if (endpoint) results.push(resync('folder to S3, PostgreSQL ledger', `s3://${freshBucket()}/`, db.url));
  }
} finally {
  await db?.drop();
  await dropBuckets();
}

console.log(`\n### re-sync of ${FILES} unchanged files (median of ${REPEAT})\n`);
console.log('| case | wall s | client CPU s |');
console.log('|---|---:|---:|');
for (const r of results) console.log(`| ${r.tool}${r.ok ? '' : ' (FAILED)'} | ${r.wall.toFixed(2)} | ${r.cpu.toFixed(2)} |`);
console.log('\n(target: about 0.3 s for the S3 case on an idle machine; figures on a shared machine are noisy)');
await cleanup();
