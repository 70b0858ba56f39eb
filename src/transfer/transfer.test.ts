// cp / sync / check between local folders, run as a user runs them: through the `ferry` command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, chown, mkdir, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jsonLines, runFerry, startFerry, collect } from '../testing/cli.ts';
import { catchMidway } from '../testing/freeze.ts';
import { content, makeTree, snapshot, tempDir } from '../testing/tree.ts';

async function setup(count = 60, size = 20_000) {
  const dir = await tempDir();
  const src = join(dir, 'src');
  await makeTree(src, count, (i) => (i % 7) * size + 1, 25);
  return { dir, src, dst: join(dir, 'dst'), env: { FERRY_WORKDIR: join(dir, 'work'), FERRY_LEDGER: join(dir, 'work', 'ledger.sqlite') } };
}

function sameFiles(a: Map<string, { size: number; sha256: string; mtimeMs: number }>, b: typeof a) {
  assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
  for (const [k, v] of a) {
    assert.equal(b.get(k)!.sha256, v.sha256, k);
    assert.equal(Math.floor(b.get(k)!.mtimeMs), Math.floor(v.mtimeMs), `mtime of ${k}`);
  }
}

test('cp copies a tree byte for byte with mtimes, and a second run sends nothing', async () => {
  const t = await setup();
  const first = await runFerry(['cp', t.src, t.dst, '--json'], { env: t.env });
  assert.equal(first.code, 0, first.stderr);
  const sum = jsonLines(first.stdout).find((e) => e.type === 'summary')!;
  assert.equal(sum.copiedFiles, 60);
  assert.equal(sum.verifiedFiles, 60);
  sameFiles(await snapshot(t.src), await snapshot(t.dst));

  const again = await runFerry(['sync', t.src, t.dst, '--json'], { env: t.env });
  const sum2 = jsonLines(again.stdout).find((e) => e.type === 'summary')!;
  assert.equal(again.code, 0);
  assert.equal(sum2.copiedFiles, 0);
  assert.equal(sum2.skippedFiles, 60);

  const checked = await runFerry(['check', t.src, t.dst, '--checksum'], { env: t.env });
  assert.equal(checked.code, 0, checked.stdout);
  assert.match(checked.stdout, /60 files compared, 60 matching/);
});

test('sync sends only what changed; --delete removes extras only when every copy succeeded', async () => {
  const t = await setup(30);
  assert.equal((await runFerry(['sync', t.src, t.dst], { env: t.env })).code, 0);
  // Same size, new content and mtime: a size-only tool would miss it.
  await writeFile(join(t.src, 'd0/f1.bin'), content('changed', 20_001));
  await writeFile(join(t.src, 'd0/new.bin'), 'new');
  await writeFile(join(t.dst, 'd0/extra.bin'), 'not in the source');
  const r = await runFerry(['sync', t.src, t.dst, '--delete', '--json'], { env: t.env });
  assert.equal(r.code, 0, r.stderr);
  const events = jsonLines(r.stdout);
  assert.deepEqual(events.filter((e) => e.type === 'copied').map((e) => e.key).sort(), ['d0/f1.bin', 'd0/new.bin']);
  assert.deepEqual(events.filter((e) => e.type === 'delete').map((e) => e.key), ['d0/extra.bin']);
  sameFiles(await snapshot(t.src), await snapshot(t.dst));
});

test('--checksum finds a change that kept size and mtime', async () => {
  const t = await setup(10);
  assert.equal((await runFerry(['cp', t.src, t.dst], { env: t.env })).code, 0);
  const victim = join(t.dst, 'd0/f1.bin');
  const before = (await snapshot(t.dst)).get('d0/f1.bin')!;
  const bytes = content('d0/f1.bin', before.size);
  bytes[0] ^= 0xff;
  await writeFile(victim, bytes);
  await utimes(victim, new Date(before.mtimeMs), new Date(before.mtimeMs));
  const plain = await runFerry(['check', t.src, t.dst], { env: t.env });
  assert.equal(plain.code, 0, 'size-only check cannot see it');
  const deep = await runFerry(['check', t.src, t.dst, '--checksum', '--json'], { env: t.env });
  assert.equal(deep.code, 1);
  const report = jsonLines(deep.stdout).find((e) => e.type === 'check')!;
  assert.deepEqual(report.differing.map((d: { key: string }) => d.key), ['d0/f1.bin']);
  const repaired = await runFerry(['sync', t.src, t.dst, '--checksum'], { env: t.env });
  assert.equal(repaired.code, 0);
  sameFiles(await snapshot(t.src), await snapshot(t.dst));
});

test('check lists files missing on either side and exits 1', async () => {
  const t = await setup(10);
  await runFerry(['cp', t.src, t.dst], { env: t.env });
  await rm(join(t.dst, 'd0/f2.bin'));
  await writeFile(join(t.dst, 'stray.txt'), 'x');
  const r = await runFerry(['check', t.src, t.dst, '--json'], { env: t.env });
  assert.equal(r.code, 1);
  const report = jsonLines(r.stdout).find((e) => e.type === 'check')!;
  assert.deepEqual(report.missingOnDestination, ['d0/f2.bin']);
  assert.deepEqual(report.missingOnSource, ['stray.txt']);
});

test('single files copy into a folder or to a new name; include/exclude and dry-run', async () => {
  const t = await setup(10);
  await mkdir(t.dst);
  assert.equal((await runFerry(['cp', join(t.src, 'd0/f1.bin'), t.dst], { env: t.env })).code, 0);
  assert.equal((await runFerry(['cp', join(t.src, 'd0/f2.bin'), join(t.dst, 'renamed.bin')], { env: t.env })).code, 0);
  const files = await snapshot(t.dst);
  assert.deepEqual([...files.keys()].sort(), ['f1.bin', 'renamed.bin']);

  const dry = await runFerry(['sync', t.src, join(t.dir, 'dry'), '--dry-run', '--exclude', 'sub/**', '--exclude', 'd0/sub/*'], { env: t.env });
  assert.equal(dry.code, 0);
  assert.match(dry.stdout, /would copy d0\/f1.bin/);
  assert.doesNotMatch(dry.stdout, /sub\//);
  assert.deepEqual(await readdir(t.dir).then((d) => d.includes('dry')), false);

  const only = await runFerry(['cp', t.src, join(t.dir, 'only'), '--include', 'f1*.bin'], { env: t.env });
  assert.equal(only.code, 0);
  assert.deepEqual([...(await snapshot(join(t.dir, 'only'))).keys()].sort(), ['d0/f1.bin']);
});

test('bad input: missing source, bad URL, destination inside the source: one line, exit 2, nothing written', async () => {
  const t = await setup(3);
  const before = await snapshot(t.src);
  const cases: [string[], RegExp][] = [
    [['cp', join(t.dir, 'nope'), t.dst], /source .*nope does not exist/],
    [['cp', t.src, 'ftp://host/x'], /unsupported URL scheme "ftp:\/\/"/],
    [['cp', t.src, 's3://'], /names no bucket/],
    [['sync', t.src, join(t.src, 'inside')], /inside the source/],
    [['cp', t.src, t.dst, '--transfers', 'many'], /--transfers must be a whole number/],
    [['cp', t.src, t.dst, '--bwlimit', 'fast'], /"fast" is not a size/],
  ];
  for (const [args, message] of cases) {
    const r = await runFerry(args, { env: t.env });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  sameFiles(before, await snapshot(t.src));
  assert.equal((await readdir(t.dir)).includes('dst'), false);
});

test('an unreadable file is reported, the rest are copied, exit 1, and the source is untouched', async () => {
  assert.equal(process.getuid?.(), 0, 'this test runs as root to hand the tree to an unprivileged user (CI does)');
  const t = await setup(20);
  await rm(join(t.dir, 'work'), { recursive: true, force: true });
  execFileSync('chown', ['-R', 'nobody', t.dir]);
  await chmod(t.dir, 0o755);
  await chmod(join(t.src, 'd0/f4.bin'), 0o000);
  const before = await snapshot(t.src);
  const r = await runFerry(['cp', t.src, t.dst], { env: t.env, asUser: 'nobody', cwd: t.dir });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /failed: d0\/f4.bin: .*permission denied/);
  assert.match(r.stdout, /copied +19 files/);
  const copied = await snapshot(t.dst);
  assert.equal(copied.size, 19);
  assert.equal(copied.has('d0/f4.bin'), false);
  sameFiles(before, await snapshot(t.src));
  // sync --delete must not delete anything after a failure.
  await writeFile(join(t.dst, 'extra.bin'), 'x');
  await chown(join(t.dst, 'extra.bin'), 65534, 65534);
  const s = await runFerry(['sync', t.src, t.dst, '--delete'], { env: t.env, asUser: 'nobody', cwd: t.dir });
  assert.equal(s.code, 1);
  assert.match(s.stderr, /not deleting anything: 1 file\(s\) failed/);
  assert.equal((await snapshot(t.dst)).has('extra.bin'), true);
});

test('a full disk stops the copy with a clear message, exit 2, and leaves no partial file', async () => {
  assert.equal(process.getuid?.(), 0, 'this test mounts a small tmpfs and needs root (CI runs as root)');
  const t = await setup(1);
  await makeTree(t.src, 12, 512 * 1024, 4);
  await mkdir(t.dst);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', t.dst]);
  try {
    const r = await runFerry(['cp', t.src, t.dst, '--transfers', '2'], { env: t.env });
    assert.equal(r.code, 2, 'an environment error, as the README says of a full disk');
    assert.match(r.stderr, /no space left on device/);
    assert.match(r.stderr, /free space at the destination, then run the same command again/);
    const left = await snapshot(t.dst);
    const src = await snapshot(t.src);
    for (const [k, v] of left) {
      assert.ok(!k.split('/').pop()!.startsWith('.'), `temporary file left behind: ${k}`);
      assert.equal(v.sha256, src.get(k)!.sha256, `${k} is whole`);
    }
  } finally {
    execFileSync('umount', [t.dst]);
  }
});

test('SIGKILL in the middle, then the same command: completes, identical, no temporary files', async () => {
  const t = await setup(1);
  await makeTree(t.src, 400, 64 * 1024, 50);
  const child = startFerry(['cp', t.src, t.dst, '--transfers', '4', '--bwlimit', '4M'], { env: t.env });
  const done = collect(child);
  // Stopped while the destination is counted: some but not all files have landed when it is killed.
  const landed = async () => (await readdir(t.dst, { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => e.isFile() && !e.name.startsWith('.')).length;
  await catchMidway(child, 'with some but not all files copied', landed, async () => {
    const n = await landed();
    return n > 20 && n < 400 ? n : undefined;
  });
  child.kill('SIGKILL');
  const killed = await done;
  assert.equal(killed.signal, 'SIGKILL');
  const partial = await landed();
  assert.ok(partial > 0 && partial < 400, `killed half-way (${partial} files present)`);

  const r = await runFerry(['cp', t.src, t.dst, '--json'], { env: t.env });
  assert.equal(r.code, 0, r.stderr);
  const sum = jsonLines(r.stdout).find((e) => e.type === 'summary')!;
  assert.ok(sum.skippedFiles > 0, 'files verified before the kill are not sent again');
  sameFiles(await snapshot(t.src), await snapshot(t.dst));
});

/** Sets the destination's mtimes to now: only the manifest can then tell that its files are unchanged. */
async function touchAll(root: string): Promise<void> {
  const now = new Date();
  for (const key of (await snapshot(root)).keys()) await utimes(join(root, key), now, now);
}

test('the manifests an older Ferry kept in its working folder are read by a ledger elsewhere: nothing is sent again', async () => {
  const t = await setup(20);
  // What an older Ferry left: its manifest in the working folder (FERRY_WORKDIR).
  assert.equal((await runFerry(['cp', t.src, t.dst], { env: t.env })).code, 0);
  await touchAll(t.dst);
  const sync = (ledger: string, workdir: string) =>
    runFerry(['sync', t.src, t.dst, '--json', '--ledger', join(t.dir, ledger, 'ledger.sqlite')], { env: { FERRY_WORKDIR: join(t.dir, workdir) } });
  const upgraded = await sync('new-ledger', 'work');
  assert.equal(upgraded.code, 0, upgraded.stderr);
  assert.equal(jsonLines(upgraded.stdout).find((e) => e.type === 'summary')!.copiedFiles, 0);
  await touchAll(t.dst);
  const fresh = await sync('other-ledger', 'no-such-workdir');
  assert.equal(jsonLines(fresh.stdout).find((e) => e.type === 'summary')!.copiedFiles, 20, 'without that manifest every file is sent again');
});

test('from a folder the user cannot write into, cp keeps its state in the user state folder, and a re-run finds it', async () => {
  assert.equal(process.getuid?.(), 0, 'this test runs as root to hand folders to an unprivileged user (CI does)');
  const t = await setup(10);
  await chmod(t.dir, 0o755);
  const out = join(t.dir, 'out');
  const state = join(t.dir, 'state');
  for (const d of [out, state]) {
    await mkdir(d);
    await chown(d, 65534, 65534);
  }
  // Run from inside the (root-owned) acquisition folder, with no ledger named.
  const asNobody = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runFerry(args, { asUser: 'nobody', cwd: t.src, env: { FERRY_LEDGER: '', FERRY_WORKDIR: '', XDG_STATE_HOME: state, ...env } });
  const first = await asNobody(['cp', '.', out, '--json']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, new RegExp(`${t.src}/.ferry is not writable \\(permission denied\\): keeping transfer state in ${state}/ferry`));
  assert.equal(jsonLines(first.stdout).find((e) => e.type === 'summary')!.copiedFiles, 10);
  sameFiles(await snapshot(t.src), await snapshot(out));
  await touchAll(out);
  const again = await asNobody(['sync', '.', out, '--json']);
  assert.equal(jsonLines(again.stdout).find((e) => e.type === 'summary')!.copiedFiles, 0, 'the re-run found the manifest');

  const nowhere = await asNobody(['cp', '.', out], { XDG_STATE_HOME: t.src });
  assert.equal(nowhere.code, 2);
  assert.match(nowhere.stderr, /cannot keep transfer state in .*\.ferry \(permission denied\) nor in .*ferry \(permission denied\)/);
  assert.match(nowhere.stderr, /run from a folder you can write to, or name a ledger with --ledger/);
  const named = await asNobody(['cp', '.', out, '--ledger', join(t.src, 'ledger.sqlite')]);
  assert.equal(named.code, 2);
  assert.match(named.stderr, /cannot keep transfer state beside the ledger .*ledger\.sqlite: permission denied/);
  for (const r of [nowhere, named]) assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});
