// `ferry fibsem check` on a generated tab of realistic size: 120,000 tiles (about 40 days of one
// scope), five stages (InLens png, transferred dat, archived dat, logs as local folders; the scope as
// a saved listing), 21 tiles lost as in the seed. Wall time of the whole command, process start
// included, against the same set logic in Python (check_tabs.py: glob + sets), in the same run,
// the two taking turns. Target: Ferry's median at most half of Python's.
//
//   node bench/fibsem-check.ts [--tiles 120000] [--repeats 5]
import { execFile } from 'node:child_process';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { errorMessage } from '../src/errors.ts';
import { FERRY_BIN } from '../src/testing/cli.ts';
import { tempDir } from '../src/testing/tree.ts';
import { makeStageFolders, testTabLayout, writeTabYaml } from '../src/testing/fibsem-tab.ts';
import { scopeDayFolder } from '../src/formats/fibsem/names.ts';

const { values } = parseArgs({ options: { tiles: { type: 'string', default: '120000' }, repeats: { type: 'string', default: '5' } } });
const TILES = Number(values.tiles);
const REPEATS = Number(values.repeats);
const LOST = 21;
const run = promisify(execFile);

// check_tabs.py's core, reading the same folders and listing.
const PYTHON_PEER = `
import glob, os, sys
png, dat, arch, logs, listing = sys.argv[1:6]
core = lambda p, s: os.path.basename(p)[: -len(s)]
png_set = {core(p, '-InLens.png') for p in glob.glob(png + '/*-InLens.png')}
dm11 = {core(p, '.dat') for p in glob.glob(dat + '/*.dat')}
archived = {core(p, '.dat') for p in glob.glob(arch + '/*.dat')}
log_set = sorted(core(p, '.log') for p in glob.glob(logs + '/*.log'))
first, last = log_set[0], log_set[-1]
scope = set()
for line in open(listing):
    line = line.strip()
    if line.endswith('.dat'):
        n = core(line, '.dat')
        if first <= n <= last: scope.add(n)
transferred = dm11 | archived
print(len(sorted(scope - png_set)), len(sorted(scope - transferred)), len(sorted(dm11 - archived)))
`;

function tileName(i: number): string {
  // 3,000 tiles a day (one layer of 6 tiles every ~3 minutes), from 2021-08-23 on.
  const day = new Date(Date.UTC(2021, 7, 23) + Math.floor(i / 3000) * 86_400_000);
  const yy = String(day.getUTCFullYear() % 100).padStart(2, '0');
  const mm = String(day.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(day.getUTCDate()).padStart(2, '0');
  const layer = Math.floor((i % 3000) / 6);
  const hhmmss = `${String(Math.floor(layer / 25)).padStart(2, '0')}${String((layer % 25) * 2).padStart(2, '0')}00`;
  return `Merlin-6285_${yy}-${mm}-${dd}_${hhmmss}_0-${Math.floor((i % 6) / 3)}-${i % 3}`;
}

async function touchAll(dir: string, names: string[]): Promise<void> {
  const batch = 256;
  for (let i = 0; i < names.length; i += batch) {
    await Promise.all(names.slice(i, i + batch).map(async (n) => (await open(join(dir, n), 'w')).close()));
  }
}

/** Wall seconds of one run, or what failed: a tool that fails gets a FAILED line, the other still prints. */
async function timeIt(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number | Error> {
  const t0 = performance.now();
  try {
    await run(cmd, args, { maxBuffer: 64 << 20, env });
  } catch (e) {
    // exit 1 = something missing, which this tab has on purpose
    if ((e as { code?: number }).code !== 1) return new Error(((e as { stderr?: string }).stderr || errorMessage(e)).trim().split('\n').slice(-2).join(' / '));
  }
  return (performance.now() - t0) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const l = testTabLayout(await tempDir('ferry-bench-fibsem-check-'));
try {
  const t0 = performance.now();
  await makeStageFolders(l);
  const names = Array.from({ length: TILES }, (_, i) => tileName(i));
  const lost = new Set(names.filter((_, i) => i % Math.floor(TILES / LOST) === 7).slice(0, LOST));
  const kept = names.filter((n) => !lost.has(n));
  await touchAll(l.transferredDat, kept.map((n) => `${n}.dat`));
  await touchAll(l.archiveDat, kept.map((n) => `${n}.dat`));
  await touchAll(l.inLensPng, kept.map((n) => `${n}-InLens.png`));
  await touchAll(l.logs, kept.map((n) => `${n}.log`));
  const listing = join(l.root, 'scope_dat.txt');
  const day = (n: string) => `20${n.slice(12, 14)}-${n.slice(15, 17)}-${n.slice(18, 20)}`;
  await writeFile(listing, names.map((n) => `${l.scopeRoot}/${scopeDayFolder(day(n))}/${n}.dat\n`).join(''));
  await mkdir(l.scopeRoot, { recursive: true });
  const yaml = await writeTabYaml(l, { host: 'scope1', listing });
  console.log(`generated ${TILES} tiles x 5 stages (${LOST} lost) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const ferry: (number | Error)[] = [];
  const python: (number | Error)[] = [];
  // `ferry` as users run it (through its launcher), with a ledger of its own in the bench's folder.
  const ferryEnv = { ...process.env, FERRY_LEDGER: join(l.root, 'ledger.sqlite') };
  for (let r = 0; r < REPEATS; r++) {
    ferry.push(await timeIt(FERRY_BIN, ['fibsem', 'check', yaml], ferryEnv));
    python.push(await timeIt('/usr/bin/python3', ['-c', PYTHON_PEER, l.inLensPng, l.transferredDat, l.archiveDat, l.logs, listing]));
  }
  const failure = (xs: (number | Error)[]) => xs.find((x): x is Error => x instanceof Error);
  const line = (name: string, xs: (number | Error)[]) => {
    const err = failure(xs);
    const s = xs as number[];
    return err ? `${name}FAILED: ${err.message}` : `${name}${median(s).toFixed(3).padStart(15)}   ${Math.min(...s).toFixed(3).padStart(8)}`;
  };
  console.log('');
  console.log(`run   ferry (s)   python (s)   ferry / python`);
  ferry.forEach((t, i) => {
    const q = python[i];
    if (t instanceof Error || q instanceof Error) console.log(`${String(i + 1).padStart(3)}   FAILED: ${(t instanceof Error ? t : (q as Error)).message}`);
    else console.log(`${String(i + 1).padStart(3)}   ${t.toFixed(3).padStart(9)}   ${q.toFixed(3).padStart(10)}   ${(t / q).toFixed(2).padStart(14)}`);
  });
  console.log('');
  console.log(`tool                          median wall (s)   best (s)   (${REPEATS} runs, ${TILES} tiles)`);
  console.log(line('ferry fibsem check            ', ferry));
  console.log(line('check_tabs.py logic (python)  ', python));
  console.log('');
  const f = failure(ferry) ? NaN : median(ferry as number[]);
  const p = failure(python) ? NaN : median(python as number[]);
  console.log(`ferry / python, medians: ${Number.isNaN(f / p) ? 'n/a' : (f / p).toFixed(2)}   target: at most 0.50 -> ${Number.isNaN(f / p) ? 'n/a' : f <= p / 2 ? 'met' : 'NOT met'}`);
} finally {
  await rm(l.root, { recursive: true, force: true });
}
