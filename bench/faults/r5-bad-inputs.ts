// Row R5: 10,000 generated bad inputs (mutated .dat headers, precomputed info, tab and MouseLight
// YAML, job parameters, URLs, command-line flags): no internal error, no hang, no write outside a
// destination. Each family runs in a process of its own under a watchdog (bad-input-families.ts),
// so a crash or memory running out is seen as such; flags go through the real `ferry` command.
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeStack } from '../../src/testing/volume.ts';
import { runFerry } from '../../src/testing/cli.ts';
import { seededRandom } from '../../src/testing/random.ts';
import { tempDir } from '../../src/testing/tree.ts';
import type { FaultCase, FaultRow } from './row.ts';

const FAMILIES: [name: string, count: number, what: string][] = [
  ['dat', 3000, 'mutated headers of a real v9 .dat through dat info (every 10th through to-png)'],
  ['info', 2000, 'mutated precomputed info through the reader (every 10th planned as a volume source)'],
  ['tab', 1500, 'mutated FIB-SEM tab YAML (as data and as text) through the schema'],
  ['layout', 1500, 'mutated MouseLight layouts through the schema and the upload plan'],
  ['params', 1000, 'mutated and junk job parameters through every handler\'s validation'],
  ['urls', 850, 'generated store URLs and the keys recipes join below them'],
];
const FLAG_RUNS = 150;
/** A case that takes this long is a hang. */
const STALL_MS = 30_000;

const SCRIPT = fileURLToPath(new URL('./bad-input-families.ts', import.meta.url));

interface Tally {
  counts: Record<string, number>;
  bad: string[];
}

function runFamily(name: string, count: number, seed: number, sandbox: string): Promise<Tally> {
  return new Promise((resolve) => {
    const t: Tally = { counts: {}, bad: [] };
    const child = spawn(process.execPath, ['--max-old-space-size=2048', SCRIPT, name, String(count), String(seed), sandbox], {
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let started = -1;
    let buffered = '';
    let stderr = '';
    let stall = setTimeout(() => child.kill('SIGKILL'), STALL_MS);
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
    child.stdout.on('data', (d) => {
      buffered += d;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        const o = JSON.parse(line) as { i: number; start?: boolean; outcome?: string; message?: string };
        if (o.start) {
          started = o.i;
          clearTimeout(stall);
          stall = setTimeout(() => {
            t.bad.push(`case ${o.i}: no answer after ${STALL_MS / 1000} s (a hang)`);
            child.kill('SIGKILL');
          }, STALL_MS);
          continue;
        }
        t.counts[o.outcome!] = (t.counts[o.outcome!] ?? 0) + 1;
        if (o.outcome === 'internal' || o.outcome === 'outside') t.bad.push(`case ${o.i}: ${o.outcome}: ${o.message}`);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(stall);
      const done = Object.values(t.counts).reduce((a, b) => a + b, 0);
      if (done < count) t.bad.push(`stopped at case ${started} of ${count} (exit ${code ?? signal}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
      resolve(t);
    });
  });
}

/** `ferry` with random commands and flags, in a folder two levels below a fence that must stay as it is. */
async function runFlags(root: string, seed: number): Promise<Tally> {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const cwd = join(root, 'c', 'w');
  await mkdir(cwd, { recursive: true });
  await writeStack(join(cwd, 'sections'), [32, 32, 4], 'uint8');
  await copyFile('/work/shared/fixtures/fibsem/small_21-07-31_152727_0-0-1.dat', join(cwd, 'tile.dat'));
  await writeFile(join(cwd, 'tab.yaml'), `tab: T\nscope: {host: nohost.invalid, datRoot: /x, listing: listing.txt}\nfolders: {transferredDat: t, archiveDat: a, inLensPng: p, logs: l}\n`);
  await writeFile(join(cwd, 'listing.txt'), '/x/Y2021/M08/D23/Merlin-6285_21-08-23_084156_0-0-0.dat\n');
  await mkdir(join(cwd, 'jobs'));
  await writeFile(join(cwd, 'jobs', 'source_1__..__p.txt'), 'todo\n/x/../../p\n');
  const VALUES = ['0', '-1', '', '..', '../../escaped', '99999999999', '%zz', 'file:///%zz', 'nosuch', '{nope}', '1,2', '0,0,0', '1e9,1e9,1e9', 'a,b,c,d', 'sections', '/dev/null', 's3://../x'];
  const COMMANDS: string[][] = [
    ['volume', 'plan', 'sections', 'out'], ['volume', 'plan', pick(VALUES), pick(VALUES)], ['jump', 'plan', '--results', 'sections'], ['jump', 'import-joblist', 'jobs'],
    ['fibsem', 'check', 'tab.yaml'], ['fibsem', 'repair', 'tab.yaml', '--dry-run'], ['dat', 'info', 'tile.dat'], ['dat', 'to-png', 'tile.dat'], ['cp', 'sections', 'copy'],
    ['check', 'sections', 'copy'], ['status'], ['jobs', 'list'], ['jobs', 'show', '1'], ['work', '--until-empty'], ['submit', '--scheduler', 'slurm', '--workers', '2', '--dry-run'],
    ['demo', '--tiles', '3'], ['mouselight', 'upload', '--config', 'tab.yaml'], ['volume', 'serve', pick(VALUES)],
  ];
  const FLAGS = ['--run', '--dest', '--key-template', '--voxel-size', '--chunk', '--task-size', '--scales', '--factor', '--port', '--parallel', '--batch', '--kinds', '--ledger', '--transfers', '--bwlimit', '--out', '--jobs', '--include', '--part-size', '--workers', '--tiles', '--dir', '--nonzero-threshold', '--encoding', '--offset', '--lease', '--grace'];
  const t: Tally = { counts: {}, bad: [] };
  const env = { FERRY_LEDGER: join(cwd, 'ledger.sqlite'), FERRY_WORKDIR: join(cwd, '.ferry'), AWS_EC2_METADATA_DISABLED: 'true', AWS_ENDPOINT_URL: 'http://127.0.0.1:1', HOME: cwd };
  const one = async () => {
    const argv = [...pick(COMMANDS)];
    for (let k = Math.floor(rnd() * 4); k > 0; k--) argv.push(pick(FLAGS), pick(VALUES));
    const r = await Promise.race([
      runFerry(argv, { cwd, env }),
      new Promise<undefined>((ok) => setTimeout(() => ok(undefined), STALL_MS * 2).unref()),
    ]);
    const key = r === undefined ? 'hang' : r.code === null || ![0, 1, 2].includes(r.code) || /internal error/.test(r.stderr) ? 'internal' : r.code === 0 ? 'ok' : 'refused';
    t.counts[key] = (t.counts[key] ?? 0) + 1;
    if (key === 'hang' || key === 'internal') t.bad.push(`ferry ${argv.join(' ')}: ${key}${r ? ` (exit ${r.code}): ${r.stderr.split('\n').slice(0, 3).join(' | ')}` : ''}`);
  };
  for (let i = 0; i < FLAG_RUNS; i += 2) await Promise.all([one(), one()]);
  const outside = [...(await readdir(root)).filter((e) => e !== 'c'), ...(await readdir(join(root, 'c'))).filter((e) => e !== 'w')];
  if (outside.length) t.bad.push(`written outside the working folder: ${outside.join(', ')}`);
  return t;
}

function summary(t: Tally): string {
  return Object.entries(t.counts).map(([k, n]) => `${n} ${k}`).join(', ');
}

export const row: FaultRow = {
  id: 'R5',
  title: '10,000 generated bad inputs: no internal error, no hang, no write outside a destination',
  async run() {
    const sandbox = await tempDir('ferry-r5-');
    const seed = Number(process.env.FAULT_SEED ?? 5);
    const cases: FaultCase[] = [];
    for (const [name, count, what] of FAMILIES) {
      const t = await runFamily(name, count, seed, join(sandbox, name));
      const internal = (t.counts.internal ?? 0) + (t.counts.outside ?? 0);
      cases.push({
        done: `${count.toLocaleString('en-US')} ${what}: ${summary(t)}`,
        checked: 'each a result or a FerryError; none outside its destination; no crash, no hang',
        pass: t.bad.length === 0 && internal === 0,
        lost: t.counts.outside ? `${t.counts.outside} planned outside` : 'nothing',
        detail: t.bad.slice(0, 8),
      });
    }
    const flags = await runFlags(join(sandbox, 'flags'), seed);
    cases.push({
      done: `${FLAG_RUNS} ferry runs with random commands and flags: ${summary(flags)}`,
      checked: 'exit 0, 1 or 2, no "internal error", done within a minute, nothing written above the working folder',
      pass: flags.bad.length === 0,
      lost: flags.bad.some((b) => b.startsWith('written outside')) ? 'files outside the working folder' : 'nothing',
      detail: flags.bad.slice(0, 8),
    });
    return cases;
  },
};
