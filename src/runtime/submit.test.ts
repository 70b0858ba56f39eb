// Command lines for Slurm and LSF, then real arrays on the local Slurm (scripts/services/slurm.sh)
// and through the LSF stand-ins in scripts/lsf that forward to it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Ledger } from '../ledger/ledger.ts';
import { openLedger } from '../ledger/open.ts';
import { FERRY_BIN, REPO, runCli, tempDir } from '../testing/ledger.ts';
import { QUEUE_SAFETY_NET_MS, until } from '../testing/until.ts';
import { parseMegabytes, parseMinutes } from './submit.ts';

const LSF_BIN = path.join(REPO, 'scripts', 'lsf');

function slurmEnv(): NodeJS.ProcessEnv {
  if (!process.env.SLURM_CONF) {
    throw new Error('SLURM_CONF is not set: start Slurm with `bash scripts/services/slurm.sh start` and run `eval "$(bash scripts/services/slurm.sh env)"`');
  }
  return process.env;
}

/** Array task id -> Slurm state, from squeue (finished tasks stay listed for MinJobAge). */
function arrayStates(jobId: string): Map<string, string> {
  const out = execFileSync('squeue', ['-h', '-t', 'all', '-j', jobId, '-o', '%K %T'], { encoding: 'utf8', env: slurmEnv() });
  return new Map(out.trim().split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/) as [string, string]));
}

async function logs(dir: string): Promise<string> {
  const files = await fs.readdir(dir).catch(() => [] as string[]);
  const texts = await Promise.all(files.map(async (f) => `--- ${f}\n${await fs.readFile(path.join(dir, f), 'utf8')}`));
  return texts.join('\n');
}

/** Waits until the array's `tasks` tasks have all ended; returns their states. */
async function untilArrayDone(jobId: string, tasks: number): Promise<Map<string, string>> {
  let states = new Map<string, string>();
  return until(() => `array ${jobId} to end: ${JSON.stringify([...states])}`, () => {
    states = arrayStates(jobId);
    const active = [...states.values()].some((s) => /PENDING|RUNNING|COMPLETING|CONFIGURING/.test(s));
    return states.size >= tasks && !active && states;
  }, QUEUE_SAFETY_NET_MS, 250);
}

describe('submit command lines', () => {
  test('slurm: one sbatch array whose workers get the absolute ledger path', async () => {
    const dir = await tempDir();
    try {
      const r = await runCli(
        ['submit', '--scheduler', 'slurm', '--workers', '8', '--partition', 'short', '--time', '2:30:00', '--mem', '4G', '--project', 'flyem', '--run', 'plates', '--concurrency', '2', '--dry-run', '--ledger', 'state/ledger.sqlite'],
        { cwd: dir },
      );
      assert.equal(r.code, 0, r.stderr);
      const ledger = path.join(dir, 'state/ledger.sqlite');
      assert.equal(
        r.stdout.trim(),
        `sbatch --parsable --job-name=ferry-work --array=1-8 --partition=short --time=150 --mem=4096M --account=flyem ` +
          `--output=${dir}/.ferry/logs/ferry-work-%A_%a.out --wrap 'exec ${process.execPath} ${FERRY_BIN} work --ledger ${ledger} --until-empty --run plates --concurrency 2 --grace 20'`,
      );
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  test('lsf: one bsub job array with LSF units', async () => {
    const r = await runCli([
      'submit', '--scheduler', 'lsf', '--workers', '3', '--queue', 'normal', '--time', '90', '--mem', '512M', '--project', 'mouselight',
      '--name', 'upload', '--log-dir', '/tmp/logs', '--dry-run', '--ledger', 'postgres://u:p@db.example.org:5432/ferry',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout.trim(),
      `bsub -J 'upload[1-3]' -q normal -W 1:30 -M 512MB -R 'rusage[mem=512MB]' -P mouselight -o /tmp/logs/upload-%J_%I.out ` +
        `${process.execPath} ${FERRY_BIN} work --ledger postgres://u:p@db.example.org:5432/ferry --until-empty --grace 5`,
    );
  });

  test('time limits and memory sizes are read the way the schedulers write them', () => {
    assert.equal(parseMinutes('90'), 90);
    assert.equal(parseMinutes('1:30'), 90);
    assert.equal(parseMinutes('2:00:30'), 121);
    assert.equal(parseMinutes('1-12:00:00'), 2160);
    assert.equal(parseMinutes('2h'), 120);
    assert.equal(parseMegabytes('4G'), 4096);
    assert.equal(parseMegabytes('4GB'), 4096);
    assert.equal(parseMegabytes('300'), 300);
    assert.throws(() => parseMinutes('soon'), /cannot read the time limit "soon"/);
    assert.throws(() => parseMegabytes('lots'), /cannot read the memory "lots"/);
  });

  test('bad values are usage errors (exit 2), not stack traces', async () => {
    const r = await runCli(['submit', '--scheduler', 'pbs', '--workers', '2', '--dry-run']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /argument 'pbs' is invalid/);
    const t = await runCli(['submit', '--scheduler', 'slurm', '--workers', '2', '--time', 'forever', '--dry-run']);
    assert.equal(t.code, 2);
    assert.match(t.stderr, /cannot read the time limit "forever"/);
  });
});

describe('arrays on a real Slurm', () => {
  let dir: string;
  let ledgerFile: string;
  let ledger: Ledger;
  before(async () => {
    slurmEnv();
    dir = await tempDir();
    // Slurm runs the tasks as this user from this folder; keep everything readable.
    await fs.chmod(dir, 0o755);
    ledgerFile = path.join(dir, 'ledger.sqlite');
    ledger = await openLedger(ledgerFile);
  });
  after(async () => {
    await ledger?.close();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  test('tasks cancelled mid-way (scancel, and scancel --batch --signal=KILL): their jobs return to todo and other workers finish them', async () => {
    const run = await ledger.createRun({ name: 'slurm-cancel' });
    const n = 24;
    // No job ends before the gate opens: each task holds what it claimed until tasks 1 and 2 are cancelled.
    const gate = path.join(dir, 'cancel.gate');
    await ledger.addJobs(run.id, Array.from({ length: n }, (_, i) => ({ kind: 'test.sleep', key: `s${i}`, params: { ms: 700, gate } })));
    const sub = await runCli(
      ['submit', '--scheduler', 'slurm', '--workers', '3', '--ledger', ledgerFile, '--run', 'slurm-cancel', '--concurrency', '2', '--lease', '2', '--grace', '0', '--name', 'ferrytest', '--log-dir', path.join(dir, 'logs')],
      { cwd: dir, env: slurmEnv() },
    );
    assert.equal(sub.code, 0, sub.stderr);
    const jobId = sub.stdout.trim();
    assert.match(jobId, /^\d+$/);
    // Wait until tasks 1 and 2 each hold jobs, then cancel them two different ways.
    const holders = async () => (await ledger.listJobs({ runId: run.id, states: ['ongoing'] })).map((j) => j.leaseOwner ?? '');
    const holds = (owners: string[], task: number) => owners.some((o) => o.includes(`slurm ${jobId}_${task}`));
    await until(async () => `tasks 1 and 2 to hold jobs together: ${JSON.stringify([...arrayStates(jobId)])}\n${await logs(path.join(dir, 'logs'))}`, async () => {
      const owners = await holders();
      return holds(owners, 1) && holds(owners, 2);
    }, QUEUE_SAFETY_NET_MS);
    execFileSync('scancel', [`${jobId}_1`], { env: slurmEnv() });
    // --batch: deliver the KILL itself (a plain scancel always starts with a polite SIGTERM).
    execFileSync('scancel', ['--batch', '--signal=KILL', `${jobId}_2`], { env: slurmEnv() });
    const released = async () => {
      for (const j of await ledger.listJobs({ runId: run.id })) if ((await ledger.events(j.id)).some((e) => e.type === 'released')) return true;
      return false;
    };
    await until(() => `task 1 to release its jobs and task 2 to be gone: ${JSON.stringify([...arrayStates(jobId)])}`, async () => (await released()) && arrayStates(jobId).get('2') === 'FAILED');
    await fs.writeFile(gate, '');
    const states = await untilArrayDone(jobId, 3);
    assert.equal(states.get('1'), 'CANCELLED');
    assert.equal(states.get('2'), 'FAILED');
    assert.equal(states.get('3'), 'COMPLETED');

    const jobs = await ledger.listJobs({ runId: run.id });
    assert.deepEqual([...new Set(jobs.map((j) => j.state))], ['success']);
    const handedOver = { released: 0, expired: 0 };
    for (const j of jobs) {
      const ev = await ledger.events(j.id);
      if (ev.some((e) => e.type === 'released')) handedOver.released++;
      if (ev.some((e) => e.type === 'claimed' && /previous lease expired/.test(e.message))) handedOver.expired++;
    }
    assert.ok(handedOver.released >= 1, 'the SIGTERMed task released its jobs');
    assert.ok(handedOver.expired >= 1, 'the SIGKILLed task’s jobs came back when their lease expired');
  });

  test('LSF: bsub job array through the stand-in, visible in bjobs, runs the jobs', async () => {
    const run = await ledger.createRun({ name: 'lsf' });
    await ledger.addJobs(run.id, Array.from({ length: 20 }, (_, i) => ({ kind: 'noop', key: `l${i}` })));
    const env = { ...slurmEnv(), PATH: `${LSF_BIN}:${process.env.PATH}` };
    const sub = await runCli(['submit', '--scheduler', 'lsf', '--workers', '2', '--ledger', ledgerFile, '--run', 'lsf', '--name', 'lsftest', '--time', '10', '--log-dir', path.join(dir, 'logs')], {
      cwd: dir,
      env,
    });
    assert.equal(sub.code, 0, sub.stderr);
    const jobId = sub.stdout.trim();
    assert.match(jobId, /^\d+$/);
    await untilArrayDone(jobId, 2);
    const [st] = await ledger.status({ runIds: [run.id] });
    assert.equal(st.counts.success, 20, await logs(path.join(dir, 'logs')));
    const bjobs = execFileSync(path.join(LSF_BIN, 'bjobs'), ['-noheader', jobId], { encoding: 'utf8', env });
    assert.deepEqual(bjobs.trim().split('\n').map((l) => l.split(/\s+/)[2]).sort(), ['DONE', 'DONE']);
    assert.match(bjobs, /lsftest\[1\]/);
    const owners = new Set((await ledger.events((await ledger.listJobs({ runId: run.id, limit: 1 }))[0].id)).map((e) => e.message));
    assert.ok([...owners].some((m) => new RegExp(`lsf ${jobId}\\[[12]\\]`).test(m)), 'workers know their LSF job id and index');
  });
});
