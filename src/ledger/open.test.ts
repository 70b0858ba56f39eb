// How the ledger is opened by commands that only read, and what a user sees when the file is not a
// ledger, is damaged, or cannot be written: one message, exit 2, and the file left as it was.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { openLedger } from './open.ts';
import { runFerry } from '../testing/cli.ts';
import { freshLedger, runCli, tempDir } from '../testing/ledger.ts';

const READERS = [['status'], ['jobs', 'list'], ['jobs', 'show', '1'], ['jobs', 'log', '1']];
const WRITERS = [['jobs', 'retry', '1'], ['jobs', 'cancel', '1'], ['work', '--until-empty']];
/** Commands that may create a ledger, but never in someone else's database. */
const CREATORS = (folder: string) => [['ledger', 'migrate'], ['jump', 'import-joblist', folder, '--dest', '/tmp/ferry-never-written']];

let dir: string;
before(async () => {
  dir = await tempDir('ferry-open-');
});
after(() => fs.rm(dir, { recursive: true, force: true }));

async function digest(file: string): Promise<string> {
  return createHash('sha256').update(await fs.readFile(file)).digest('hex');
}

/** Every file in `dir` with its digest: what a command must leave unchanged. */
async function folderState(d: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await fs.readdir(d)).sort()) out[name] = await digest(path.join(d, name));
  return out;
}

/** A real ledger with a run of `n` jobs, closed (its WAL folded into the file). */
async function ledgerWithJobs(file: string, n: number): Promise<void> {
  const ledger = await openLedger(file);
  const run = await ledger.createRun({ name: 'r' });
  await ledger.addJobs(run.id, Array.from({ length: n }, (_, i) => ({ kind: 'k', key: `job-${i}`, params: { pad: 'x'.repeat(400) } })));
  await ledger.close();
}

function assertClean(r: { code: number | null; stderr: string }, message: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /internal error|\bat .*\.[tj]s:\d+/, 'no stack trace');
}

describe('a SQLite file that is not a Ferry ledger', () => {
  test('is refused, unchanged, by every command: those that only read, the workers, and those that may create a ledger', async () => {
    const sub = await fs.mkdtemp(path.join(dir, 'other-'));
    const file = path.join(sub, 'other.sqlite');
    const raw = new Database(file);
    raw.exec("CREATE TABLE samples (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO samples (name) VALUES ('a')");
    raw.close();
    const before = await folderState(sub);
    for (const args of [...READERS, ...WRITERS, ...CREATORS(sub)]) {
      const r = await runCli([...args, '--ledger', file]);
      assertClean(r, /other\.sqlite is not a Ferry ledger: it holds tables named samples/);
      assert.deepEqual(await folderState(sub), before, `${args.join(' ')} left the file and its folder as they were`);
    }
  });

  test('an empty file is not taken for a new ledger by a command that only reads', async () => {
    const sub = await fs.mkdtemp(path.join(dir, 'empty-'));
    const file = path.join(sub, 'empty.sqlite');
    await fs.writeFile(file, '');
    for (const args of READERS) {
      assertClean(await runCli([...args, '--ledger', file]), /empty\.sqlite is not a Ferry ledger: it has no tables/);
      assert.deepEqual(await fs.readdir(sub), ['empty.sqlite']);
      assert.equal((await fs.stat(file)).size, 0);
    }
  });

  test('the reading commands open a real ledger read-only: they work for a user who may not write it', async () => {
    assert.equal(process.getuid?.(), 0, 'this test runs as root to hand the ledger to an unprivileged user (CI does)');
    const sub = await fs.mkdtemp(path.join(dir, 'ro-'));
    const file = path.join(sub, 'ledger.sqlite');
    await ledgerWithJobs(file, 3);
    await fs.chmod(dir, 0o755);
    await fs.chmod(file, 0o444);
    // SQLite keeps a reader's shared index beside a ledger in WAL mode, so the folder must take it.
    execFileSync('chown', ['nobody', sub]);
    await fs.chmod(sub, 0o755);
    const before = await digest(file);
    const asNobody = { asUser: 'nobody', cwd: sub, env: { FERRY_LEDGER: file } };
    for (const args of READERS) {
      const r = await runFerry(args, asNobody);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    assert.match((await runFerry(['status'], asNobody)).stdout, /^r +3 +3 /m);
    assertClean(await runFerry(['jobs', 'cancel', '1'], asNobody), /the ledger .*ledger\.sqlite cannot be written/);
    assert.equal(await digest(file), before);
    // A folder the reader may not write either: said plainly.
    execFileSync('chown', ['root', sub]);
    await fs.rm(`${file}-shm`, { force: true });
    assertClean(await runFerry(['status'], asNobody), /the ledger .*ledger\.sqlite cannot be (read or )?written/);
  });
});

describe('a damaged ledger', () => {
  test('is named as damaged by every command, exit 2, no stack trace, nothing changed', async () => {
    const sub = await fs.mkdtemp(path.join(dir, 'damaged-'));
    const file = path.join(sub, 'ledger.sqlite');
    await ledgerWithJobs(file, 200);
    // Overwrite the b-tree header of every page after the first: what a torn disk write leaves.
    const bytes = await fs.readFile(file);
    const pageSize = bytes.readUInt16BE(16);
    assert.ok(bytes.length / pageSize > 10, 'the ledger spans many pages');
    for (let p = pageSize; p < bytes.length; p += pageSize) bytes.fill(0x07, p, p + 200);
    await fs.writeFile(file, bytes);
    const before = await digest(file);
    for (const args of [...READERS, ...WRITERS, ['volume', 'plan', path.join(sub, 'nothing'), path.join(sub, 'out'), '--voxel-size', '1,1,1']]) {
      const r = await runCli([...args, '--ledger', file]);
      if (args[0] === 'volume') {
        // Refused for its input before the ledger is opened: what matters is that nothing crashed.
        assert.equal(r.code, 2, r.stderr);
        continue;
      }
      assertClean(r, /the ledger .*ledger\.sqlite is damaged \(database disk image is malformed\)/);
      assert.match(r.stderr, /\.recover/);
    }
    assert.equal(await digest(file), before, 'the damaged ledger is left as it was');
  });
});

describe('a read-only file system', () => {
  test('a ledger that cannot be written is one clear line for a worker, exit 2', async () => {
    assert.equal(process.getuid?.(), 0, 'this test mounts a small tmpfs and needs root (CI runs as root)');
    const mnt = await fs.mkdtemp(path.join(dir, 'rofs-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]);
    try {
      const file = path.join(mnt, 'ledger.sqlite');
      await ledgerWithJobs(file, 3);
      execFileSync('mount', ['-o', 'remount,ro', mnt]);
      for (const args of [...READERS, ...WRITERS]) assertClean(await runCli([...args, '--ledger', file]), /the ledger .*ledger\.sqlite cannot be (read or )?written/);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });
});

describe('PostgreSQL', () => {
  test('a command that only reads never creates Ferry\'s tables in a database', async () => {
    const t = await freshLedger('postgres');
    try {
      const r = await runCli(['status', '--ledger', t.url]);
      assertClean(r, /is not a Ferry ledger: it has no tables/);
      const client = new pg.Client({ connectionString: t.url });
      await client.connect();
      try {
        const { rows } = await client.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'");
        assert.deepEqual(rows, []);
      } finally {
        await client.end();
      }
    } finally {
      await t.dispose();
    }
  });
});
