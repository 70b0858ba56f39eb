import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/ferry.js', import.meta.url));

function ferry(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    // A check keeps its report in the ledger: one of the test's own, not the checkout's.
    const env = { ...process.env, FERRY_LEDGER: join(tmpdir(), `ferry-fibsem-test-${process.pid}.sqlite`) };
    execFile(process.execPath, [BIN, ...args], { env }, (err, stdout, stderr) => done({ code: err ? Number(err.code) : 0, stdout, stderr }));
  });
}

const names = Array.from({ length: 4 }, (_, z) => [0, 1].map((c) => `Merlin-6285_21-08-23_08415${z}_0-0-${c}`)).flat();

/** A tab folder whose stages hold `present` of the 8 tiles the scope listing names. */
async function makeTab(present: string[], expected = ''): Promise<{ dir: string; yaml: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-fibsem-check-'));
  for (const d of ['dat', 'archive', 'InLens', 'logs']) await mkdir(join(dir, d));
  for (const n of present) {
    await writeFile(join(dir, 'dat', `${n}.dat`), '');
    await writeFile(join(dir, 'archive', `${n}.dat`), '');
    await writeFile(join(dir, 'InLens', `${n}-InLens.png`), '');
    await writeFile(join(dir, 'logs', `${n}.log`), '');
  }
  await writeFile(join(dir, 'scope.txt'), names.map((n) => `/cygdrive/e/Images/Fly Brain/Y2021/M08/D23/${n}.dat`).join('\n') + '\n');
  const yaml = join(dir, 'tab.yaml');
  await writeFile(
    yaml,
    `tab: Z0720-07m_VNC_Sec26
scope: { host: jeiss8.hhmi.org, datRoot: /cygdrive/e/Images/Fly Brain, listing: scope.txt }
folders: { transferredDat: dat, archiveDat: archive, inLensPng: InLens, logs: logs }
${expected}`,
  );
  return { dir, yaml };
}

test('missing tiles: the check_tabs table, the lists, exit 1', async () => {
  const { dir, yaml } = await makeTab([names[0], names[1], names[4], names[5], names[6], names[7]]);
  try {
    const r = await ferry('fibsem', 'check', yaml);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(lines[1], 'Tab: Z0720-07m_VNC_Sec26');
    assert.equal(lines[3], 'InLens png  Transferred dat  Archived dat  Scope dat       Logs');
    assert.equal(lines[5], '         6                6             6          8          6');
    assert.equal(lines[7], `         2 missing InLens png: ['${names[2]}', '${names[3]}']`);
    assert.equal(lines[8], `         2 missing dat:        ['${names[2]}', '${names[3]}']`);
    assert.equal(lines[9], '         0 unarchived dat:     []');
    assert.equal(lines[10], '         0 non-standard dat:   []');
    assert.equal(lines[12], `first dat: ${names[0]}  (nothing expected)`);

    const json = await ferry('--json', 'fibsem', 'check', yaml);
    assert.equal(json.code, 1);
    const event = JSON.parse(json.stdout.trim());
    assert.equal(event.type, 'tabCheck');
    assert.deepEqual(event.missingDat, [names[2], names[3]]);
    assert.equal(event.complete, false);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('nothing missing and the operator\'s names and count match: exit 0', async () => {
  const { dir, yaml } = await makeTab(names, `expected: { firstDat: ${names[0]}.dat, lastDat: ${names[7]}.dat, count: 8 }\n`);
  try {
    const r = await ferry('fibsem', 'check', yaml);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^dat count: 8 {2}\(as expected\)$/m);
    assert.match(r.stdout, new RegExp(`^last dat:  ${names[7]} {2}\\(as expected\\)$`, 'm'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a YAML field missing, a folder absent or not a folder: one clear line, exit 2', async () => {
  const { dir, yaml } = await makeTab(names);
  try {
    await writeFile(join(dir, 'bad.yaml'), 'tab: x\nscope: { host: h, datRoot: /r }\nfolders: { transferredDat: dat, inLensPng: InLens, logs: logs }\n');
    let r = await ferry('fibsem', 'check', join(dir, 'bad.yaml'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /folders\.archiveDat: missing/);

    await rm(join(dir, 'archive'), { recursive: true });
    r = await ferry('fibsem', 'check', yaml);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /folders\.archiveDat: cannot list .*archive: no such folder/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);

    // A file where the folder should be (unreadable as a folder, even for root).
    await writeFile(join(dir, 'archive'), '');
    r = await ferry('fibsem', 'check', yaml);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /folders\.archiveDat: cannot list .*archive: not a folder/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
