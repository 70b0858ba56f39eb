// MouseLight sample upload (issue 7): every product of one generated sample to the real S3 server.
// Ferry's `mouselight upload` (tracked, verified jobs run by a local worker) against what the
// facility ran before: the aws s3 scripts that `--emit-script` writes, images serially as
// <date>_images.sh does, the bsub'd cluster commands all at once as the cluster would.
//   npm run bench -- mouselight     (needs the S3 service running and its env exported)
//   FERRY_BENCH_SMALL=400 FERRY_BENCH_BIG_MIB=4 npm run bench -- mouselight     (a quick, smaller run)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import { content } from '../src/testing/tree.ts';
import { sampleLayout } from '../src/testing/mouselight-facility.ts';
import { AWS, cleanup, endpoint, env, ferry, freshBucket, report, requireS3, root, row, timed } from './lib.ts';
import type { Result } from './lib.ts';

requireS3();
const TILES = Number(process.env.FERRY_BENCH_SMALL ?? 4000);
const TIF_MIB = Number(process.env.FERRY_BENCH_BIG_MIB ?? 48);
const DATE = '2023-05-10';
const facility = join(root, 'facility');
let files = 0;
let bytes = 0;
const put = async (rel: string, body: Buffer) => {
  files++;
  bytes += body.length;
  await mkdir(join(facility, rel, '..'), { recursive: true });
  await writeFile(join(facility, rel), body);
};
// 4,000 ktx tiles of 32 KiB in an octree, the four image files, and smaller other products.
const sample = `nrs/mouselight/SAMPLES/${DATE}`;
await put(`${sample}/ktx/block_8_xy_.ktx`, content('root', 32 * 1024));
for (let i = 0; i < TILES; i++) await put(`${sample}/ktx/${(i % 8) + 1}/${(Math.floor(i / 8) % 8) + 1}/${Math.floor(i / 64)}/block_8_xy_.ktx`, content(`t${i}`, 32 * 1024));
for (const f of ['default.0.tif', 'default.1.tif']) await put(`${sample}/${f}`, content(f, TIF_MIB * 1024 * 1024));
for (const f of ['tilebase.cache.yml', 'transform.txt']) await put(`${sample}/${f}`, content(f, 2048));
for (let i = 0; i < 200; i++) await put(`groups/registration/Database/${DATE}/r${i}.h5`, content(`r${i}`, 256 * 1024));
for (let i = 0; i < 50; i++) await put(`groups/cluster/Reconstructions/${DATE}/stitching-output/s${i}.h5`, content(`s${i}`, 1024 * 1024));
for (let i = 0; i < 300; i++) {
  const n = `G-${String(i).padStart(3, '0')}`;
  await put(`groups/shared_tracing/Finished_Neurons/${DATE}/${n}/consensus.swc`, content(`f${n}`, 20_000));
  for (const f of ['consensus.swc', 'dendrite.swc', 'soma.txt']) await put(`groups/tracing_complete/${DATE}/${n}/${f}`, content(`c${n}${f}`, 20_000));
}
for (const v of ['mouselight', 'mouselight-v2']) for (let i = 0; i < 100; i++) await put(`funke/${v}/${DATE}/${v}-${i}.zarr`, content(`${v}${i}`, 128 * 1024));

// Debian's aws-cli 2.9 predates AWS_ENDPOINT_URL: the layout's endpoint reaches Ferry and the scripts alike.
const layout = (bucket: string) => sampleLayout(facility, `s3://${bucket}`, `endpoint: ${endpoint}\n`);
const products = ['--sample', DATE, '--products', 'images,registration,segmentation,tracings,carveouts', '--subfolder', 'stitching-output'];
const rs: Result[] = [];

const ferryEnv = { ...env, FERRY_LEDGER: join(root, 'ml-ledger.sqlite') };
const ferryRow = 'ferry mouselight upload (default)';
const againRow = 'ferry mouselight upload, again (ledger: all done)';
rs.push(await row(ferryRow, async () => {
  writeFileSync(join(root, 'ferry.yaml'), layout(await freshBucket('bench-ml-ferry')));
  return timed(ferryRow, ferry('mouselight', 'upload', '--config', 'ferry.yaml', ...products), { env: ferryEnv, cwd: root });
}));
const again = rs[0].ok ? timed(againRow, ferry('mouselight', 'upload', '--config', 'ferry.yaml', ...products), { env: ferryEnv, cwd: root }) : undefined;

const awsRow = 'facility scripts: aws s3 sync/cp, cluster part in parallel';
const awsAgainRow = 'facility scripts, again (aws compares every file)';
rs.push(await row(awsRow, async () => {
  writeFileSync(join(root, 'aws.yaml'), layout(await freshBucket('bench-ml-aws')));
  const emit = timed('emit', ferry('mouselight', 'upload', '--config', 'aws.yaml', ...products, '--emit-script', join(root, 'scripts')), { cwd: root });
  if (!emit.ok) throw new Error(`ferry mouselight upload --emit-script failed: ${emit.error}`);
  const lines = (f: string) => readFileSync(join(root, 'scripts', `${DATE}_${f}.sh`), 'utf8').split('\n');
  // bsub -J ... 'aws s3 sync ...': the quoted command is what the cluster runs; all run at once.
  const clusterCmds = [...lines('cluster'), ...lines('carveouts')].filter((l) => l.startsWith('bsub ')).map((l) => l.slice(l.indexOf(" 'aws") + 2, -1));
  const imagesCmds = lines('images').filter((l) => l.startsWith('aws '));
  const swap = (c: string) => c.replace(/^aws /, `${AWS} `);
  const script = `${imagesCmds.map(swap).join('\n')}\n${clusterCmds.map((c) => `${swap(c)} &`).join('\n')}\nwait\n`;
  writeFileSync(join(root, 'facility-scripts.sh'), script);
  return timed(awsRow, ['sh', '-e', join(root, 'facility-scripts.sh')]);
}));
const awsAgain = rs[1].ok ? timed(awsAgainRow, ['sh', '-e', join(root, 'facility-scripts.sh')]) : undefined;

report(`One MouseLight sample, every product: ${files} files, ${(bytes / 1024 / 1024).toFixed(0)} MiB (${(TILES + 1).toLocaleString('en')} ktx tiles of 32 KiB, 2 TIFFs of ${TIF_MIB} MiB) to S3`, rs, 'not slower than the aws scripts, with every file verified and every job tracked');
const rerun = (r: Result | undefined) => (r?.ok ? `${r.wall.toFixed(2)} s` : `not measured (${r ? r.error : 'the first upload failed'})`);
console.log(`\nRe-running the same upload: Ferry ${rerun(again)}, the aws scripts ${rerun(awsAgain)}.`);
await cleanup();
