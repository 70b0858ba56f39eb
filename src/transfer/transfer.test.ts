// cp / sync / check between local folders, run as a user runs them: through the `ferry` command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, chown, mkdir, readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jsonLines, runFerry, startFerry, collect } from '../testing/cli.ts';
import { catchMidway, thaw } from '../testing/freeze.ts';
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

test('a re-sync of a tree of thousands of files sends what changed anywhere in it, and a file in the way of a folder fails alone', async () => {
  const dir = await tempDir();
  const src = join(dir, 'src');
  const dst = join(dir, 'dst');
  const env = { FERRY_WORKDIR: join(dir, 'work'), FERRY_LEDGER: join(dir, 'work', 'ledger.sqlite') };
  await makeTree(src, 2500, 10, 500);
  assert.equal((await runFerry(['sync', src, dst], { env })).code, 0);
  const changed = ['d0/f1.bin', 'd2/sub/f1200.bin', 'd4/f2498.bin'];
  for (const k of changed) await writeFile(join(src, k), content(`changed ${k}`, 11));
  // The destination holds a file where the source now has a folder.
  await mkdir(join(src, 'd1', 'blocked'), { recursive: true });
  await writeFile(join(src, 'd1', 'blocked', 'inside.bin'), 'x');
  await writeFile(join(dst, 'd1', 'blocked'), 'a file, not a folder');
  const r = await runFerry(['sync', src, dst, '--json'], { env });
  assert.equal(r.code, 1, r.stderr);
  const events = jsonLines(r.stdout);
  assert.deepEqual(events.filter((e) => e.type === 'copied').map((e) => e.key).sort(), changed);
  assert.deepEqual(events.filter((e) => e.type === 'failed').map((e) => e.key), ['d1/blocked/inside.bin']);
  const sum = events.find((e) => e.type === 'summary')!;
  assert.equal(sum.skippedFiles, 2500 - changed.length);
  await rm(join(src, 'd1', 'blocked'), { recursive: true });
  const all = await snapshot(dst);
  all.delete('d1/blocked');
  sameFiles(await snapshot(src), all);
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
  // ... and says so, instead of calling the trees identical.
  assert.match(plain.stdout, /10 files compared, 10 matching, by size only: contents not read \(--checksum reads them\)/);
  assert.match(plain.stdout, /OK: the destination holds every source file with the same size; contents not compared/);
  assert.doesNotMatch(plain.stdout, /identical/);
  const resync = await runFerry(['sync', t.src, t.dst], { env: t.env });
  assert.equal(resync.code, 0);
  assert.match(resync.stdout, /skipped +10 files, .* unchanged at the destination: 10 by sizes and times: contents not read \(--checksum reads them\)/);
  assert.match(resync.stdout, /verified 0 of 10 files in .* \(10 by sizes and times only\)/);
  assert.doesNotMatch(resync.stdout, /already verified/);
  const deep = await runFerry(['check', t.src, t.dst, '--checksum', '--json'], { env: t.env });
  assert.equal(deep.code, 1);
  const report = jsonLines(deep.stdout).find((e) => e.type === 'check')!;
  assert.deepEqual(report.differing.map((d: { key: string }) => d.key), ['d0/f1.bin']);
  const repaired = await runFerry(['sync', t.src, t.dst, '--checksum', '--json'], { env: t.env });
  assert.equal(repaired.code, 0);
  const fixed = jsonLines(repaired.stdout);
  assert.deepEqual(fixed.filter((e) => e.type === 'copy').map((e) => [e.key, e.reason]), [['d0/f1.bin', 'content differs (CRC32C)']]);
  assert.equal(fixed.find((e) => e.type === 'summary')!.unchangedByContent, 9);
  sameFiles(await snapshot(t.src), await snapshot(t.dst));
  const proven = await runFerry(['check', t.src, t.dst, '--checksum'], { env: t.env });
  assert.match(proven.stdout, /OK: the destination holds every source file, with the same size and content \(CRC32C\)/);

  // Overwritten in place without keeping the time: the next plain sync reads it and repairs it.
  const other = content('d0/f1.bin', before.size);
  other[1] ^= 0xff;
  await writeFile(victim, other);
  const noticed = await runFerry(['sync', t.src, t.dst, '--json'], { env: t.env });
  assert.equal(noticed.code, 0, noticed.stderr);
  assert.deepEqual(jsonLines(noticed.stdout).filter((e) => e.type === 'copy').map((e) => [e.key, e.reason]), [['d0/f1.bin', 'the destination changed since Ferry verified it (CRC32C differs)']]);
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
    [['cp', t.src, t.dst, '--include', '[z-a]*.bin'], /--include "\[z-a\]\*\.bin": the range z-a runs backwards/],
    [['check', t.src, t.dst, '--exclude', 'd0/{sub'], /--exclude "d0\/\{sub": a '\{' is never closed/],
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

/** `rel` under `root` as the exact bytes of a path (names that are not UTF-8 are written as \xNN). */
const bytesPath = (root: string, rel: string) => Buffer.concat([Buffer.from(`${root}/`), Buffer.from(rel, 'latin1')]);

test('names that are not UTF-8 are copied exactly into a folder, checked, and refused by name by an object store', async () => {
  const dir = await tempDir();
  const [s, d] = [join(dir, 's'), join(dir, 'd')];
  const env = { FERRY_LEDGER: join(dir, 'ledger.sqlite') };
  await mkdir(s);
  await writeFile(join(s, 'ok.txt'), 'ok');
  await writeFile(bytesPath(s, 'caf\xe9.txt'), 'latin-1 name');
  await mkdir(bytesPath(s, 'r\xe9sultats'));
  await writeFile(bytesPath(s, 'r\xe9sultats/in.txt'), 'inside a latin-1 folder');

  const r = await runFerry(['sync', s, d, '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(jsonLines(r.stdout).find((e) => e.type === 'summary')!.copiedFiles, 3);
  const names = (await readdir(Buffer.from(d), { encoding: 'buffer' })).map((n) => n.toString('latin1')).sort();
  assert.deepEqual(names, ['caf\xe9.txt', 'ok.txt', 'r\xe9sultats']);
  assert.equal(await readFile(bytesPath(d, 'r\xe9sultats/in.txt'), 'utf8'), 'inside a latin-1 folder');
  const checked = await runFerry(['check', '--checksum', s, d], { env });
  assert.equal(checked.code, 0, checked.stdout);
  assert.match(checked.stdout, /3 files compared, 3 matching/);

  await rm(bytesPath(d, 'caf\xe9.txt'));
  const missing = await runFerry(['check', '--checksum', s, d], { env });
  assert.equal(missing.code, 1);
  assert.match(missing.stdout, /1 missing on destination\n +caf\\xE9\.txt\n/);

  // An object key must be UTF-8: those files fail by name, the rest are copied.
  const toObjects = await runFerry(['sync', s, 'memory://names/'], { env });
  assert.equal(toObjects.code, 1, toObjects.stderr);
  assert.match(toObjects.stderr, /failed: caf\\xE9\.txt: memory:\/\/names\/caf\\xE9\.txt: the name is not valid UTF-8, which an object key must be/);
  assert.match(toObjects.stderr, /failed: r\\xE9sultats\/in\.txt: /);
  assert.match(toObjects.stdout, /copied +1 files/);
});

test('what the walk cannot copy is counted and named: FIFOs, devices, links to nothing, link loops, links to folders', async () => {
  assert.equal(process.getuid?.(), 0, 'this test runs as root to make a device node (CI does)');
  const t = await setup(5);
  execFileSync('mkfifo', [join(t.src, 'pipe')]);
  execFileSync('mknod', [join(t.src, 'null'), 'c', '1', '3']);
  await symlink('nowhere', join(t.src, 'dangling'));
  await symlink('loop-b', join(t.src, 'loop-a'));
  await symlink('loop-a', join(t.src, 'loop-b'));
  await symlink(join(t.src, 'd0'), join(t.src, 'd0-link'));
  const r = await runFerry(['sync', t.src, t.dst, '--json'], { env: t.env });
  assert.equal(r.code, 1, r.stderr);
  const events = jsonLines(r.stdout);
  const failed = Object.fromEntries(events.filter((e) => e.type === 'failed').map((e) => [e.key, e.error]));
  assert.deepEqual(Object.keys(failed).sort(), ['d0-link', 'dangling', 'loop-a', 'loop-b', 'null', 'pipe']);
  assert.match(failed.pipe, /a named pipe \(FIFO\), not a file/);
  assert.match(failed.null, /a character device, not a file/);
  assert.match(failed.dangling, /a link to something that does not exist/);
  assert.match(failed['loop-a'], /a loop of links/);
  assert.match(failed['d0-link'], /a link to a folder, not followed/);
  const sum = events.find((e) => e.type === 'summary')!;
  assert.deepEqual([sum.listed, sum.copiedFiles, sum.failedFiles], [11, 5, 6]);

  const checked = await runFerry(['check', t.src, t.dst], { env: t.env });
  assert.equal(checked.code, 1, 'what could not be compared is not proven equal');
  assert.match(checked.stdout, /6 could not be compared\n/);
  assert.match(checked.stdout, /pipe: at the source: a named pipe \(FIFO\), not a file/);
  assert.match(checked.stdout, /NOT PROVEN/);

  const excluded = ['--exclude', 'pipe', '--exclude', 'null', '--exclude', 'dangling', '--exclude', 'loop-*', '--exclude', 'd0-link'];
  assert.equal((await runFerry(['sync', t.src, t.dst, ...excluded], { env: t.env })).code, 0);
  assert.equal((await runFerry(['check', t.src, t.dst, ...excluded], { env: t.env })).code, 0);
});

test('a folder that cannot be read is reported, the rest are copied, and --delete does not delete what it holds', async () => {
  assert.equal(process.getuid?.(), 0, 'this test runs as root to hand the tree to an unprivileged user (CI does)');
  const t = await setup(6);
  await rm(join(t.dir, 'work'), { recursive: true, force: true });
  await mkdir(join(t.src, 'locked'));
  await writeFile(join(t.src, 'locked', 'a.bin'), 'a');
  await mkdir(join(t.dst, 'locked'), { recursive: true });
  await writeFile(join(t.dst, 'locked', 'a.bin'), 'a');
  execFileSync('chown', ['-R', 'nobody', t.dir]);
  await chmod(t.dir, 0o755);
  await chmod(join(t.src, 'locked'), 0o000);
  const r = await runFerry(['sync', t.src, t.dst, '--delete'], { env: t.env, asUser: 'nobody', cwd: t.dir });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /failed: locked\/: .*locked: permission denied/);
  assert.match(r.stderr, /not deleting anything: 1 file\(s\) failed/);
  assert.match(r.stdout, /copied +6 files/);
  assert.equal(await readFile(join(t.dst, 'locked', 'a.bin'), 'utf8'), 'a', 'the destination keeps what the unreadable folder may hold');
  const checked = await runFerry(['check', t.src, t.dst], { env: t.env, asUser: 'nobody', cwd: t.dir });
  assert.equal(checked.code, 1);
  assert.match(checked.stdout, /locked\/: at the source: .*permission denied/);
});

test('a source folder that cannot be read at all fails the run by its name: nothing copied, nothing deleted', async () => {
  assert.equal(process.getuid?.(), 0, 'this test runs as root to hand the tree to an unprivileged user (CI does)');
  const t = await setup(3);
  await rm(join(t.dir, 'work'), { recursive: true, force: true });
  await mkdir(t.dst, { recursive: true });
  await writeFile(join(t.dst, 'extra.bin'), 'x');
  execFileSync('chown', ['-R', 'nobody', t.dir]);
  await chmod(t.dir, 0o755);
  await chmod(t.src, 0o000);
  for (const args of [['sync', t.src, t.dst, '--delete'], ['check', t.src, t.dst]]) {
    const r = await runFerry(args, { env: t.env, asUser: 'nobody', cwd: t.dir });
    assert.equal(r.code, 1, `${args[0]}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`ferry: ${t.src}: permission denied`), args[0]);
    assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at /, 'no stack trace');
  }
  assert.deepEqual(await readdir(t.dst), ['extra.bin'], 'nothing copied, nothing deleted');
});

test('a source inside the destination, or the destination inside the source, links resolved: refused, nothing deleted', async () => {
  const t = await setup(4);
  const inner = join(t.src, 'inner');
  await makeTree(inner, 3, 100);
  await symlink(inner, join(t.dir, 'link-to-inner'));
  await symlink(t.src, join(t.dir, 'link-to-src'));
  const before = await snapshot(t.src);
  const cases: [string[], RegExp][] = [
    [['sync', '--delete', inner, t.src], /the source .*inner\/ is inside the destination .*src\//],
    [['sync', '--delete', join(t.dir, 'link-to-inner'), t.src], /the source .*inner\/ is inside the destination/],
    [['sync', t.src, join(t.dir, 'link-to-inner', 'copy')], /the destination .*inner\/copy\/ is inside the source/],
    [['sync', t.src, join(t.dir, 'link-to-src')], /the source and the destination are the same folder/],
    [['cp', join(inner, 'd0/f1.bin'), join(inner, 'd0')], /the source and the destination are the same file/],
  ];
  for (const [args, message] of cases) {
    const r = await runFerry(args, { env: t.env });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
  sameFiles(before, await snapshot(t.src));
});

test('names of 250 to 255 bytes copy: the temporary name does not add to them', async () => {
  const dir = await tempDir();
  const [s, d] = [join(dir, 's'), join(dir, 'd')];
  await mkdir(s);
  for (const n of [250, 253, 255]) await writeFile(join(s, 'x'.repeat(n - 4) + '.bin'), `${n}`);
  await writeFile(join(s, 'é'.repeat(127) + '.'), 'two-byte letters, 255 bytes');
  const r = await runFerry(['sync', s, d], { env: { FERRY_LEDGER: join(dir, 'ledger.sqlite') } });
  assert.equal(r.code, 0, r.stderr);
  sameFiles(await snapshot(s), await snapshot(d));
});

test('two syncs of one tree into one destination at once both finish, verified, with no temporary file left', async () => {
  const t = await setup(1);
  await makeTree(t.src, 40, 128 * 1024, 10);
  // Slow writes of files sent in parts, so that both runs are writing the same files at the same time.
  const args = ['sync', t.src, t.dst, '--transfers', '4', '--bwlimit', '2M', '--multipart-threshold', '64K'];
  const [a, b] = await Promise.all([0, 1].map(() => runFerry(args, { env: t.env })));
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  sameFiles(await snapshot(t.src), await snapshot(t.dst));
});

test('an interrupted run says it was interrupted and what it verified, never "verified N of N" for what it had listed', async () => {
  const t = await setup(1);
  await makeTree(t.src, 300, 64 * 1024, 50);
  const child = startFerry(['cp', t.src, t.dst, '--transfers', '4', '--bwlimit', '2M'], { env: t.env });
  const done = collect(child);
  const landed = async () => (await readdir(t.dst, { recursive: true, withFileTypes: true }).catch(() => [])).filter((e) => e.isFile() && !e.name.startsWith('.')).length;
  await catchMidway(child, 'with some files copied', landed, async () => ((await landed()) > 10 ? true : undefined));
  child.kill('SIGINT');
  thaw(child);
  const r = await done;
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /interrupted after .*: \d+ files verified of the \d+ listed so far; the source was not listed to the end/);
  assert.doesNotMatch(r.stdout, /verified \d+ of \d+ files/);
});
