// ferry work and ferry submit: nonsense is refused by name, and a cluster on one SQLite file is
// warned about before it starts.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { openLedger } from '../../ledger/open.ts';
import { runFerry } from '../../testing/cli.ts';
import { tempDir } from '../../testing/tree.ts';

test('work --kinds with a kind no recipe has is refused, naming the kinds there are', async () => {
  const ledger = join(await tempDir('ferry-work-kinds-'), 'ledger.sqlite');
  await (await openLedger(ledger)).close();
  const r = await runFerry(['work', '--kinds', 'transfer.sync,nosuch', '--until-empty', '--ledger', ledger]);
  assert.equal(r.code, 2, r.stdout);
  assert.match(r.stderr, /^ferry: --kinds: no job kind named nosuch\n {2}the kinds are: .*transfer\.sync/);
});

test('submitting cluster workers on a SQLite ledger warns; on PostgreSQL or locally it does not', async () => {
  const dir = await tempDir('ferry-submit-warn-');
  const ledger = join(dir, 'ledger.sqlite');
  const sqlite = await runFerry(['submit', '--scheduler', 'slurm', '--workers', '50', '--dry-run'], { cwd: dir, env: { FERRY_LEDGER: '' } });
  assert.equal(sqlite.code, 0, sqlite.stderr);
  assert.match(sqlite.stderr, /50 slurm worker\(s\) will share the SQLite ledger .*\.ferry\/ledger\.sqlite: .*not NFS.*use PostgreSQL/);
  const local = await runFerry(['submit', '--scheduler', 'local', '--workers', '2', '--dry-run', '--ledger', ledger]);
  assert.doesNotMatch(local.stderr, /will share the SQLite ledger/);
  const pg = await runFerry(['submit', '--scheduler', 'lsf', '--workers', '50', '--dry-run', '--ledger', 'postgres://u@127.0.0.1:1/db']);
  assert.equal(pg.code, 0, pg.stderr);
  assert.doesNotMatch(pg.stderr, /will share/);
});
