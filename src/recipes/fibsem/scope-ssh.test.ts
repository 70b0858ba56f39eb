// `ferry fibsem check` and `repair` against a real OpenSSH server (scripts/services/sshd.sh)
// standing in for the microscope PC, reached through an ssh_config alias as users configure it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { access, chmod, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jsonLines, runFerry } from '../../testing/cli.ts';
import { snapshot, tempDir } from '../../testing/tree.ts';
import { scopePath, testTabLayout, tileBytes, writeScopeFile, writeStages, writeTabYaml, makeStageFolders, openForScopeUser } from '../../testing/fibsem-tab.ts';
import type { TestTabLayout } from '../../testing/fibsem-tab.ts';

const ENV = ['FERRY_TEST_SSH_CONFIG', 'FERRY_TEST_SSH_ALIAS', 'FERRY_TEST_SSH_HOST', 'FERRY_TEST_SSH_USER', 'FERRY_TEST_SSH_KNOWN_HOSTS'] as const;

function sshEnv(): Record<(typeof ENV)[number], string> {
  const missing = ENV.filter((k) => !process.env[k]);
  if (missing.length) {
    assert.fail(`${missing.join(', ')} not set: start the SSH server with scripts/services/sshd.sh start && eval "$(scripts/services/sshd.sh env)"`);
  }
  return Object.fromEntries(ENV.map((k) => [k, process.env[k]!])) as Record<(typeof ENV)[number], string>;
}

const core = (time: string, tile: string, day = '21-08-23') => `Merlin-6285_${day}_${time}_${tile}`;
const layer = (time: string, day?: string) => ['0-0-0', '0-0-1', '0-0-2'].map((t) => core(time, t, day));

// Four layers over two days. Layer 084212 never left the scope; two of its tiles are bad there at
// first (a truncated file and a file that is not a .dat at all).
const DONE = [...layer('084156'), ...layer('084230'), ...layer('000105', '21-08-24')];
const LOST = layer('084212');
const [LOST_OK, TRUNCATED, FOREIGN] = LOST;
const UNARCHIVED = DONE[1];
const PNG_ONLY_MISSING = DONE[4];
const NON_STANDARD = `${core('084212', '0-0-1')}_retake`;

async function check(yaml: string, extra: string[] = []) {
  const r = await runFerry(['--json', 'fibsem', 'check', yaml, ...extra]);
  const report = jsonLines(r.stdout).find((e) => e.type === 'tabCheck');
  return { ...r, report };
}

/** Every file of `before` is still there, byte for byte (files may have been added). */
function assertNothingLost(before: Map<string, { sha256: string }>, after: Map<string, { sha256: string }>, where: string): void {
  for (const [path, f] of before) assert.equal(after.get(path)?.sha256, f.sha256, `${where}: ${path} was deleted or changed`);
}

describe('fibsem check and repair over ssh', () => {
  let env: ReturnType<typeof sshEnv>;
  let l: TestTabLayout;
  let yaml: string;

  before(async () => {
    env = sshEnv();
    l = testTabLayout(await tempDir('ferry-fibsem-ssh-'));
    // Check and repair keep their runs in the ledger: this suite's own, not the checkout's.
    process.env.FERRY_LEDGER = join(l.root, 'ledger.sqlite');
    await makeStageFolders(l);
    for (const c of [...DONE, ...LOST]) await writeScopeFile(l, c, tileBytes(c));
    await writeScopeFile(l, TRUNCATED, tileBytes(TRUNCATED).subarray(0, 1500));
    await writeScopeFile(l, FOREIGN, Buffer.from('this is a thumbnail, not a dat file\n'.repeat(40)));
    await writeScopeFile(l, NON_STANDARD, tileBytes(NON_STANDARD));
    // Another acquisition on the scope, months later: outside the tab's days, never listed.
    await writeScopeFile(l, core('120000', '0-0-0', '21-11-02'), tileBytes('other'));
    for (const c of DONE) {
      await writeStages(l, c, { transferred: true, archive: c !== UNARCHIVED, png: c !== PNG_ONLY_MISSING, log: c !== PNG_ONLY_MISSING }, tileBytes(c));
    }
    // The logs give the days: the scope PC is listed from 2021-08-21 (first day - 2) to 2021-08-24.
    await writeStages(l, PNG_ONLY_MISSING, { log: true }, Buffer.alloc(0));
    await openForScopeUser(l, [join(l.root, 'scope')]);
    yaml = await writeTabYaml(l, { host: env.FERRY_TEST_SSH_ALIAS, sshConfig: env.FERRY_TEST_SSH_CONFIG });
  });

  after(async () => {
    if (l) await rm(l.root, { recursive: true, force: true });
  });

  test('check lists the scope over ssh for the acquisition days, under a root with a space', async () => {
    const r = await check(yaml);
    assert.equal(r.code, 1, r.stderr);
    const rep = r.report!;
    assert.equal(rep.scopeSource, `ssh ${env.FERRY_TEST_SSH_ALIAS}`);
    assert.deepEqual(rep.scopeDays, ['2021-08-21', '2021-08-22', '2021-08-23', '2021-08-24']);
    assert.deepEqual(rep.missingDat, LOST);
    assert.deepEqual(rep.missingInLensPng, [...LOST, PNG_ONLY_MISSING].sort());
    assert.deepEqual(rep.unarchivedDat, [UNARCHIVED]);
    assert.deepEqual(rep.nonStandardDat, [NON_STANDARD]);
    assert.equal(rep.counts.scopeDat, DONE.length + LOST.length);
    assert.equal(rep.complete, false);

    const human = await runFerry(['fibsem', 'check', yaml]);
    assert.match(human.stdout, /3 missing dat: {8}\['Merlin-6285_21-08-23_084212_0-0-0', /);
  });

  test('a dry run shows what would be fetched and changes nothing', async () => {
    const before = await snapshot(l.root);
    const r = await runFerry(['fibsem', 'repair', yaml, '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /3 \.dat to fetch from scope1, 1 to archive from the transferred folder, 4 InLens PNG to convert/);
    assert.ok(r.stdout.includes(`would fetch   scope1:${scopePath(l.scopeRoot, LOST_OK)} -> `), r.stdout);
    assert.deepEqual(await snapshot(l.root), before);
  });

  test('repair (--parallel 3) fetches the lost tiles, quarantines bad scope files with their reason, never touches what exists', async () => {
    const scopeBefore = await snapshot(join(l.root, 'scope'));
    const stagesBefore = await snapshot(join(l.root, 'groups'));
    const archiveBefore = await snapshot(join(l.root, 'nearline'));
    const r = await runFerry(['--json', 'fibsem', 'repair', yaml, '--parallel', '3']);
    assert.equal(r.code, 1, 'two tiles could not be repaired');
    const summary = jsonLines(r.stdout).find((e) => e.type === 'repairSummary')!;
    assert.deepEqual(
      { archived: summary.archived, converted: summary.converted, quarantined: summary.quarantined, failed: summary.failed },
      { archived: 2, converted: 2, quarantined: 2, failed: 2 },
    );
    assert.deepEqual(await readFile(join(l.archiveDat, `${LOST_OK}.dat`)), tileBytes(LOST_OK));
    assert.deepEqual(await readFile(join(l.archiveDat, `${UNARCHIVED}.dat`)), tileBytes(UNARCHIVED));
    await access(join(l.inLensPng, `${LOST_OK}-InLens.png`));
    await access(join(l.logs, `${PNG_ONLY_MISSING}.log`));

    assert.deepEqual((await readdir(l.quarantine)).sort(), [`${TRUNCATED}.dat`, `${TRUNCATED}.reason.txt`, `${FOREIGN}.dat`, `${FOREIGN}.reason.txt`].sort());
    assert.match(await readFile(join(l.quarantine, `${TRUNCATED}.reason.txt`), 'utf8'), /truncated \.dat file: header says 2560 bytes, file has 1500/);
    assert.match(await readFile(join(l.quarantine, `${FOREIGN}.reason.txt`), 'utf8'), /magic/i);
    assert.match(await readFile(join(l.quarantine, `${FOREIGN}.reason.txt`), 'utf8'), new RegExp(`source: scope1:.*Fly Brain/Y2021/M08/D23/${FOREIGN}\\.dat`));
    assert.match(r.stderr, new RegExp(`${TRUNCATED}: quarantined: `));

    assert.deepEqual(await snapshot(join(l.root, 'scope')), scopeBefore, 'the scope is only read');
    assertNothingLost(stagesBefore, await snapshot(join(l.root, 'groups')), 'groups');
    assertNothingLost(archiveBefore, await snapshot(join(l.root, 'nearline')), 'nearline');
    assert.equal((await readdir(l.archiveDat)).filter((n) => n.endsWith('.part')).length, 0, 'no temporary files left');

    const c = await check(yaml);
    assert.equal(c.code, 1);
    assert.deepEqual(c.report!.missingDat, [TRUNCATED, FOREIGN].sort());
  });

  test('once the scope files are good, repair completes and check exits 0', async () => {
    for (const c of [TRUNCATED, FOREIGN]) await writeScopeFile(l, c, tileBytes(c));
    const r = await runFerry(['fibsem', 'repair', yaml]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /2 \.dat archived, 2 InLens PNG converted, 0 quarantined/);
    const c = await check(yaml);
    assert.equal(c.code, 0, c.stdout);
    assert.equal(c.report!.complete, true);
    assert.deepEqual([c.report!.missingDat, c.report!.missingInLensPng, c.report!.unarchivedDat], [[], [], []]);
    // The evidence of the first, bad copies stays in quarantine.
    assert.equal((await readdir(l.quarantine)).length, 4);
  });

  test('an unreachable scope host: one clear message, exit 2, nothing changed', async () => {
    const port = await closedPort();
    const config = join(l.root, 'ssh_config_closed');
    await writeFile(config, `Host scope1\n  HostName 127.0.0.1\n  Port ${port}\n  User ${env.FERRY_TEST_SSH_USER}\n`);
    const before = await snapshot(l.root);
    for (const cmd of ['check', 'repair']) {
      const r = await runFerry(['fibsem', cmd, yaml, '--ssh-config', config]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^ferry: cannot reach the scope host scope1 \(ssh config .*\): the host is unreachable \[ssh: .*Connection refused/);
      assert.match(r.stderr, /\n {2}check that the scope PC is on/);
      assert.equal(r.stderr.trim().split('\n').length, 2, 'one message and one hint, no stack trace');
    }
    assert.deepEqual(await snapshot(l.root), before);
  });

  test('a key the scope refuses: one clear message, exit 2, no password prompt', async () => {
    const key = join(l.root, 'stranger_ed25519');
    await promisify(execFile)('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    await chmod(key, 0o600);
    const config = join(l.root, 'ssh_config_stranger');
    await writeFile(
      config,
      [
        'Host scope1',
        `  HostName ${env.FERRY_TEST_SSH_HOST}`,
        `  Port ${process.env.FERRY_TEST_SSH_PORT ?? 2222}`,
        `  User ${env.FERRY_TEST_SSH_USER}`,
        `  IdentityFile ${key}`,
        '  IdentitiesOnly yes',
        `  UserKnownHostsFile ${env.FERRY_TEST_SSH_KNOWN_HOSTS}`,
        '  StrictHostKeyChecking yes',
        '',
      ].join('\n'),
    );
    const r = await runFerry(['fibsem', 'repair', yaml, '--ssh-config', config]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^ferry: cannot reach the scope host scope1 .*: the host refused the key \[ssh: .*Permission denied/);
    assert.match(r.stderr, /authorized_keys/);
    assert.equal(r.stderr.trim().split('\n').length, 2, 'one message and one hint');
  });
});

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
