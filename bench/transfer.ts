// Transfer benchmark (issue 2): Ferry against aws-cli v2, rclone, rsync and cp, same machine, same
// S3 server, same run. Each tool runs once with its defaults and once with its best flags; wall
// time and the client's CPU seconds (user + system, from GNU time) are printed with ratios. A tool
// that fails (or is missing) gets a FAILED row saying why; the others still print their figures.
//
//   npm run bench -- transfer            (needs the S3 service: scripts/services/s3.sh start)
//   CASES=d npm run bench -- transfer    (only some cases: a, b, c, d, e)
//   FERRY_BENCH_BIG_MIB=64 FERRY_BENCH_SMALL=500 FERRY_BENCH_RESYNC=1000 npm run bench -- transfer   (a quick, smaller run)
//
// (e) is the no-change re-sync of FERRY_BENCH_RESYNC files (100,000 of 1 KiB) to S3 and folder to
// folder, with each tool's peak memory: the tree is written once and kept (bench/trees.ts), each
// tool's first copy is untimed, aws-cli, which cannot copy folder to folder, has rsync in its place
// there, and find over both trees gives the floor of any folder-to-folder comparison. Each row is
// the median of FERRY_BENCH_TURNS (3) re-syncs.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { content, makeTree } from '../src/testing/tree.ts';
import { errorMessage } from '../src/errors.ts';
import { aws, awsBest, awsDefault, cleanup, dropBuckets, env, failedRow, ferry, freshBucket, report, root, timed } from './lib.ts';
import { keptFerryCopy, keptTree } from './trees.ts';
import { breakdown, formatBreakdown, readTrace } from './upload-breakdown.ts';

const TRACER = new URL('./upload-trace.ts', import.meta.url).pathname;
import type { Result } from './lib.ts';

const cases = (process.env.CASES ?? 'abcd').split('');
const BIG_MIB = Number(process.env.FERRY_BENCH_BIG_MIB ?? 1024);
const SMALL = Number(process.env.FERRY_BENCH_SMALL ?? 10_000);
const RESYNC = Number(process.env.FERRY_BENCH_RESYNC ?? 100_000);
/** Re-syncs of each tool in (e), in turns; their median is reported. */
const TURNS = Number(process.env.FERRY_BENCH_TURNS ?? 3);
const bigLabel = BIG_MIB === 1024 ? '1 GiB' : `${BIG_MIB} MiB`;
const smallLabel = `${SMALL.toLocaleString('en')} files of 64 KiB`;

const big = join(root, 'big');
const small = join(root, 'small');
if (cases.includes('a')) {
  mkdirSync(big);
  const MIB = 1024 * 1024;
  const chunk = content('big', 64 * MIB);
  for (let at = 0; at < BIG_MIB; at += 64) writeFileSync(join(big, 'big.bin'), chunk.subarray(0, Math.min(64, BIG_MIB - at) * MIB), { flag: at ? 'a' : 'w' });
}
if (cases.some((c) => 'bcd'.includes(c))) await makeTree(small, SMALL, 64 * 1024, 500);

/**
 * The rows of one tool on a bucket of its own, removed afterwards, so that no tool lists or writes
 * into a bucket that holds another's objects: `tools` run in turn; if the bucket cannot be made,
 * each of them is a failed row.
 */
async function onFreshBucket(tools: [string, (bucket: string) => string[]][], withEnv?: NodeJS.ProcessEnv): Promise<Result[]> {
  let bucket: string;
  try {
    bucket = await freshBucket();
  } catch (e) {
    return tools.map(([tool]) => failedRow(tool, `no bucket for it: ${errorMessage(e)}`));
  }
  try {
    return tools.map(([tool, cmd]) => timed(tool, cmd(bucket), { env: withEnv }));
  } finally {
    await dropBuckets();
  }
}

/**
 * One untimed upload of the same data first: a fresh server grows its memory on the first large
 * writes, which would otherwise be charged to whichever tool runs first.
 */
async function warmUp(path: string): Promise<void> {
  const [r] = await onFreshBucket([['warm-up', (b) => ferry('cp', path, `s3://${b}/`)]]);
  if (!r.ok) process.stderr.write('the warm-up upload failed (is the S3 server up?); the rows follow regardless\n');
}

if (cases.includes('a')) {
  const file = join(big, 'big.bin');
  execFileSync('sync'); // the file's pages written back before the clock starts, not during Ferry's run
  const rs: Result[] = [];
  const one = async (tool: string, cmd: (bucket: string) => string[]) => rs.push(...(await onFreshBucket([[tool, cmd]])));
  await warmUp(file);
  await one('ferry cp (default)', (b) => ferry('cp', file, `s3://${b}/`));
  // Once more with the part timings traced (bench/upload-trace.ts), for where the time goes; its
  // own row, so that the timed default row carries no tracing.
  const trace = join(root, 'upload-trace.json');
  const traced = await onFreshBucket([['ferry cp (default, traced)', (b) => [process.execPath, '--import', TRACER, ...ferry('cp', file, `s3://${b}/`)]]], { ...env, FERRY_BENCH_TRACE: trace });
  await one('ferry cp --part-concurrency 16 --part-size 32M', (b) => ferry('cp', file, `s3://${b}/`, '--part-concurrency', '16', '--part-size', '32M'));
  awsDefault();
  await one('aws s3 cp (default)', (b) => aws('s3', 'cp', file, `s3://${b}/`, '--only-show-errors'));
  awsBest();
  await one('aws s3 cp (64 requests, 64 MB parts)', (b) => aws('s3', 'cp', file, `s3://${b}/`, '--only-show-errors'));
  awsDefault();
  await one('rclone copy (default)', (b) => ['rclone', 'copy', file, `bench:${b}/`]);
  await one('rclone copy (16 streams, 64M chunks)', (b) => ['rclone', 'copy', file, `bench:${b}/`, '--s3-upload-concurrency', '16', '--s3-chunk-size', '64M']);
  rs.push(...traced);
  report(`(a) one ${bigLabel} file to S3`, rs, 'Ferry wall time at most 0.8x the faster peer');
  const b = traced[0]?.ok && existsSync(trace) ? breakdown(readTrace(trace)) : undefined;
  console.log(b ? formatBreakdown('ferry cp (default, traced)', b) : '\n(no breakdown: the traced run failed)');
}

if (cases.includes('b') || cases.includes('c')) {
  const rs: Result[] = [];
  const resync: Result[] = [];
  // Each copy, and the re-syncs that follow it, on a bucket of its own.
  const copy = async (tool: string, cmd: (bucket: string) => string[], again: [string, (bucket: string) => string[]][] = []) => {
    const [first, ...rest] = await onFreshBucket([[tool, cmd], ...again]);
    rs.push(first);
    resync.push(...rest);
  };
  await warmUp(small);
  await copy('ferry cp (default)', (b) => ferry('cp', small, `s3://${b}/`), [['ferry sync (default)', (b) => ferry('sync', small, `s3://${b}/`)]]);
  await copy('ferry cp --transfers 64', (b) => ferry('cp', small, `s3://${b}/`, '--transfers', '64'));
  awsDefault();
  const awsSync = (b: string) => aws('s3', 'sync', small, `s3://${b}/`, '--only-show-errors');
  await copy('aws s3 sync (default)', awsSync, [['aws s3 sync (default)', awsSync]]);
  awsBest();
  await copy('aws s3 sync (64 requests)', awsSync);
  awsDefault();
  await copy('rclone copy (default)', (b) => ['rclone', 'copy', small, `bench:${b}/`], [
    ['rclone copy (default)', (b) => ['rclone', 'copy', small, `bench:${b}/`]],
    ['rclone copy --fast-list --checkers 64', (b) => ['rclone', 'copy', small, `bench:${b}/`, '--fast-list', '--checkers', '64']],
  ]);
  await copy('rclone copy (--transfers 64 --checkers 64)', (b) => ['rclone', 'copy', small, `bench:${b}/`, '--transfers', '64', '--checkers', '64', '--s3-no-check-bucket']);
  if (cases.includes('b')) report(`(b) ${smallLabel} to S3`, rs, 'at least 3x faster than aws-cli and 1.5x faster than rclone');
  if (cases.includes('c')) report('(c) re-sync of (b), nothing changed', resync, 'at least 5x faster than both');
}

if (cases.includes('d')) {
  const rs: Result[] = [];
  const to = (name: string) => {
    const p = join(root, 'local', name);
    if (existsSync(p)) rmSync(p, { recursive: true });
    mkdirSync(join(root, 'local'), { recursive: true });
    return p;
  };
  rs.push(timed('ferry cp (default)', ferry('cp', small, to('ferry'))));
  rs.push(timed('rsync -a', ['rsync', '-a', small + '/', to('rsync') + '/']));
  rs.push(timed('cp -r', ['cp', '-r', small, to('cp')]));
  report(`(d) ${smallLabel}, local folder to local folder`, rs, 'none set; Ferry fsyncs every file and checksums it, rsync and cp do neither');
}

if (cases.includes('e')) {
  const tree = keptTree(RESYNC, 1024);
  const label = `${RESYNC.toLocaleString('en')} files of 1 KiB, nothing changed`;
  // Each re-sync row is the median (by wall time) of TURNS runs.
  const median = (runs: Result[]): Result => runs.find((r) => !r.ok) ?? [...runs].sort((a, b) => a.wall - b.wall)[Math.floor(runs.length / 2)];
  const local = (name: string) => {
    const p = join(root, 'resync', name);
    rmSync(p, { recursive: true, force: true });
    mkdirSync(join(root, 'resync'), { recursive: true });
    return p;
  };
  // Each peer's first copy is made untimed (a failed one fails its re-sync row); Ferry's folder
  // copy is kept between runs with its ledger (bench/trees.ts). Then the tools take turns.
  const kept = keptFerryCopy(tree, `tree-${RESYNC}x1024`);
  const rsyncDst = local('rsync') + '/';
  const rcloneDst = local('rclone');
  const firstCopies = new Map([
    ['rsync -a', timed('rsync -a: first copy', ['rsync', '-a', tree + '/', rsyncDst])],
    ['rclone copy (default)', timed('rclone copy: first copy', ['rclone', 'copy', tree, rcloneDst, '--transfers', '16'])],
  ]);
  const rows: [string, string[], NodeJS.ProcessEnv?][] = [
    ['ferry sync (default)', ferry('sync', tree, kept.dst), { ...env, FERRY_LEDGER: kept.ledger }],
    ['rsync -a', ['rsync', '-a', tree + '/', rsyncDst]],
    ['rclone copy (default)', ['rclone', 'copy', tree, rcloneDst]],
    // What any tool must spend to compare the two trees: every folder read and every file stat'ed
    // on both sides, by find (fstatat relative to each folder, and no other work).
    ['floor: find over both trees, size and mtime of each file', ['find', tree, kept.dst, '-printf', '%s %T@\n']],
  ];
  const runs = rows.map((): Result[] => []);
  for (let turn = 0; turn < TURNS; turn++) {
    rows.forEach(([tool, cmd, withEnv], i) => {
      const first = firstCopies.get(tool);
      runs[i].push(first && !first.ok ? failedRow(tool, `its first copy failed: ${first.error}`) : timed(tool, cmd, { env: withEnv }));
    });
  }
  rmSync(join(root, 'resync'), { recursive: true, force: true });
  report(`(e) re-sync of ${label}, local folder to local folder, median of ${TURNS} turns`, runs.map(median), 'at least 10x rclone; aws-cli has no folder-to-folder copy, rsync stands in');

  const toS3: Result[] = [];
  // First copies with each tool's tuned flags (aws-cli's from its config file): only the re-syncs
  // after them, with the defaults, are timed, TURNS in a row on the tool's own bucket.
  const onOwnBucket = async (tool: string, first: (b: string) => string[], resync: (b: string) => string[], tuned = () => {}): Promise<Result> => {
    let bucket: string;
    try {
      bucket = await freshBucket();
    } catch (e) {
      return failedRow(tool, `no bucket for it: ${errorMessage(e)}`);
    }
    try {
      tuned();
      const made = timed(`${tool}: first copy`, first(bucket));
      awsDefault();
      if (!made.ok) return failedRow(tool, `its first copy failed: ${made.error}`);
      return median(Array.from({ length: TURNS }, () => timed(tool, resync(bucket))));
    } finally {
      await dropBuckets();
    }
  };
  const ferryS3 = (b: string) => ferry('sync', tree, `s3://${b}/`);
  toS3.push(await onOwnBucket('ferry sync (default)', ferryS3, ferryS3));
  const awsSync = (b: string) => aws('s3', 'sync', tree, `s3://${b}/`, '--only-show-errors');
  toS3.push(await onOwnBucket('aws s3 sync (default)', awsSync, awsSync, awsBest));
  const rclone = (b: string, ...flags: string[]) => ['rclone', 'copy', tree, `bench:${b}/`, ...flags];
  toS3.push(await onOwnBucket('rclone copy (default)', (b) => rclone(b, '--transfers', '64', '--checkers', '64', '--s3-no-check-bucket'), (b) => rclone(b)));
  report(`(e) re-sync of ${label}, local folder to S3, median of ${TURNS} runs`, toS3, 'at least 10x aws-cli and rclone');
}

await cleanup();
