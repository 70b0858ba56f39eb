// Re-sync of 10,000 unchanged files: the hot path that the manifest exists for. A folder to a
// folder (Ferry's own cost: listing both sides and comparing with its record) and a folder to the
// S3 server, with the transfer state beside a SQLite ledger and, when FERRY_TEST_PG_URL is set, in
// a PostgreSQL ledger. Each re-sync runs REPEAT times; printed are the medians of the command's
// wall and CPU seconds and of the seconds the transfer itself took inside the process (--json
// summary: without Node's start-up and module loading).
//
//   npm run bench -- resync        (S3 cases need FERRY_TEST_S3_*; PostgreSQL cases FERRY_TEST_PG_URL)
//   FERRY_BENCH_BIN=/other/checkout/bin/ferry.js node bench/resync.ts   (another build, to compare)
//
// Then Ferry's peak memory (RSS) on a no-change folder-to-folder re-sync of trees of
// FERRY_BENCH_MEMORY_SIZES files (10,000, 100,000 and 1,000,000 of 1 KiB), against the smallest:
// the target is within 2x. The trees and Ferry's copies of them are made once and kept
// (bench/trees.ts: a million files take about half an hour to copy with every file fsynced).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { FERRY_BIN } from '../src/testing/cli.ts';
import { makeTree } from '../src/testing/tree.ts';
import { cleanup, dropBuckets, endpoint, env, freshBucket, root, timed } from './lib.ts';
import type { Result } from './lib.ts';
import { keptFerryCopy, keptTree } from './trees.ts';

const FILES = 10_000;
const REPEAT = Number(process.env.REPEAT ?? 5);
const BIN = process.env.FERRY_BENCH_BIN ?? FERRY_BIN;
const src = join(root, 'src');
await makeTree(src, FILES, 4096, 500);

interface Run {
  wall: number;
  cpu: number;
  /** The transfer's own seconds, from the --json summary. */
  inside: number;
}

function sync(dst: string, ledger: string, unchanged: boolean): Run {
  const out = join(root, 'time.txt');
  const r = spawnSync('/usr/bin/time', ['-o', out, '-f', '%e %U %S', BIN, 'sync', src, dst, '--json'], {
    env: { ...env, FERRY_LEDGER: ledger },
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`ferry sync ${dst} failed: ${r.stderr.toString().slice(-2000)}`);
  const [wall, user, sys] = readFileSync(out, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
  const summary = r.stdout.toString().trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.type === 'summary');
  if (unchanged && summary.skippedFiles !== FILES) throw new Error(`a re-sync sent files again: ${JSON.stringify(summary)}`);
  return { wall, cpu: user + sys, inside: summary.seconds };
}

function resync(name: string, dst: string, ledger: string): [string, Run] {
  sync(dst, ledger, false);
  const rs = Array.from({ length: REPEAT }, () => sync(dst, ledger, true));
  const median = (k: keyof Run) => [...rs].sort((a, b) => a[k] - b[k])[Math.floor(rs.length / 2)][k];
  return [name, { wall: median('wall'), cpu: median('cpu'), inside: median('inside') }];
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

const results: [string, Run][] = [];
const sqliteLedger = join(root, 'state', 'ledger.sqlite');
results.push(resync('folder to folder, SQLite ledger', join(root, 'dst'), sqliteLedger));
if (endpoint) results.push(resync('folder to S3, SQLite ledger', `s3://${await freshBucket()}/`, sqliteLedger));
const db = await pgDatabase();
try {
  if (db) {
    results.push(resync('folder to folder, PostgreSQL ledger', join(root, 'dst-pg'), db.url));
    if (endpoint) results.push(resync('folder to S3, PostgreSQL ledger', `s3://${await freshBucket()}/`, db.url));
  }
} finally {
  await db?.drop();
  await dropBuckets();
}

console.log(`\n### re-sync of ${FILES} unchanged files (median of ${REPEAT}; ${BIN})\n`);
console.log('| case | wall s | client CPU s | in-process s |');
console.log('|---|---:|---:|---:|');
for (const [name, r] of results) console.log(`| ${name} | ${r.wall.toFixed(2)} | ${r.cpu.toFixed(2)} | ${r.inside.toFixed(3)} |`);
console.log('\n(target: about 0.3 s for the S3 case on an idle machine; figures on a shared machine are noisy)');

const sizes = (process.env.FERRY_BENCH_MEMORY_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const memory: [number, Result][] = sizes.map((n) => {
  const name = `tree-${n}x1024`;
  const tree = keptTree(n, 1024);
  const kept = keptFerryCopy(tree, name);
  return [n, timed(`ferry sync, ${n} files`, [BIN, 'sync', tree, kept.dst], { env: { ...env, FERRY_LEDGER: kept.ledger } })];
});
const least = memory[0][1];
console.log('\n### peak memory of a no-change folder-to-folder re-sync, by tree size\n');
console.log('| files | wall s | client CPU s | peak RSS MiB | RSS / smallest tree |');
console.log('|---:|---:|---:|---:|---:|');
for (const [n, r] of memory) {
  if (!r.ok) console.log(`| ${n.toLocaleString('en')} (FAILED: ${r.error}) | - | - | - | - |`);
  else console.log(`| ${n.toLocaleString('en')} | ${r.wall.toFixed(2)} | ${r.cpu.toFixed(2)} | ${r.rssMiB.toFixed(0)} | ${(r.rssMiB / least.rssMiB).toFixed(2)} |`);
}
console.log('\n(target: within 2x of the smallest tree from 10,000 to 1,000,000 files)');
await cleanup();
