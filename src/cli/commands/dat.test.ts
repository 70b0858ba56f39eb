import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/ferry.js', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../../formats/fibsem/testdata/small_21-07-31_152727_0-0-1.dat', import.meta.url));

function ferry(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], (err, stdout, stderr) => {
      done({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

test('dat info prints the header as a table, or JSON', async () => {
  const human = await ferry('dat', 'info', FIXTURE);
  assert.equal(human.code, 0);
  assert.match(human.stdout, /^MachineID\s+Jeiss8\/Merlin-6284$/m);
  assert.match(human.stdout, /^FirstX\s+-2625$/m);
  assert.match(human.stdout, /^Mode\s+0 \(SEM\)$/m);

  const json = await ferry('--json', 'dat', 'info', FIXTURE);
  assert.equal(json.code, 0);
  const event = JSON.parse(json.stdout.trim());
  assert.equal(event.type, 'dat');
  assert.equal(event.header.SampleID, 'Z0720-07m_VNC_Sec06');
  assert.equal(event.header.FileLength, 41024);
});

test('dat info on a foreign file: one-line error, exit 1, the good file still printed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-cli-dat-'));
  try {
    const foreign = join(dir, 'foreign.dat');
    await writeFile(foreign, 'not a dat file at all'.repeat(100));
    const r = await ferry('dat', 'info', foreign, FIXTURE);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /foreign\.dat: not a FIB-SEM \.dat file/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.match(r.stdout, /DetA\s+InLens/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('dat to-png writes InLens PNG and log per file, failures counted, exit 1', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-cli-dat-'));
  try {
    const empty = join(dir, 'Merlin-6285_21-08-23_084156_0-0-0.dat');
    await writeFile(empty, '');
    const r = await ferry('--json', 'dat', 'to-png', FIXTURE, empty, '--out', join(dir, 'InLens'));
    assert.equal(r.code, 1);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(events.at(-1), { type: 'summary', converted: 1, failed: 1 });
    assert.ok(events.some((e) => e.type === 'error' && e.code === 'DatEmpty'));
    assert.deepEqual(await readdir(join(dir, 'InLens')), ['small_21-07-31_152727_0-0-1-InLens.png']);
    assert.deepEqual(await readdir(join(dir, 'logs')), ['small_21-07-31_152727_0-0-1.log']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('dat to-png without --out is a usage error', async () => {
  const r = await ferry('dat', 'to-png', FIXTURE);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--out/);
});
