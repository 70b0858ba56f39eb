// Shared by the ledger and runtime tests: throw-away ledgers on both engines and a CLI runner.
// The PostgreSQL tests need scripts/services/pg.sh started and its `env` evaluated.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { FERRY_BIN, runFerry } from './cli.ts';
import { testKindsEnv } from './test-kinds.ts';
import { tempDir } from './tree.ts';

export { FERRY_BIN, tempDir };
export const REPO = path.dirname(path.dirname(FERRY_BIN));

export function pgUrl(): string {
  const url = process.env.FERRY_TEST_PG_URL;
  if (!url) {
    throw new Error(
      'FERRY_TEST_PG_URL is not set: start PostgreSQL with `bash scripts/services/pg.sh start` and run `eval "$(bash scripts/services/pg.sh env)"`',
    );
  }
  return url;
}

export interface TestLedger {
  engine: 'sqlite' | 'postgres';
  url: string;
  dispose(): Promise<void>;
}

/** A new, empty ledger location: a SQLite file in a temp folder, or a new PostgreSQL database. */
export async function freshLedger(engine: 'sqlite' | 'postgres'): Promise<TestLedger> {
  if (engine === 'sqlite') {
    const dir = await tempDir('ferry-ledger-');
    return { engine, url: path.join(dir, 'ledger.sqlite'), dispose: () => rm(dir, { recursive: true, force: true }) };
  }
  const base = new URL(pgUrl());
  const name = `ferry_t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  await adminQuery(base, `CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { engine, url: url.toString(), dispose: () => adminQuery(base, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function adminQuery(base: URL, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: base.toString() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  const r = await runFerry(args, { ...opts, env: testKindsEnv({ ...process.env, ...opts.env }) });
  return { code: r.code ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** A `ferry work` process; its output is kept for failure messages. */
export function spawnWorker(args: string[], opts: { cwd?: string } = {}): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, [FERRY_BIN, 'work', ...args], { cwd: opts.cwd, env: testKindsEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return Object.assign(child, { output: () => out });
}

export function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
