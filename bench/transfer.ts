// Transfer benchmark (issue 2): Ferry against aws-cli v2, rclone, rsync and cp, same machine, same
// S3 server, same run. Each tool runs once with its defaults and once with its best flags; wall
// time and the client's CPU seconds (user + system, from GNU time) are printed with ratios.
//
//   npm run bench -- transfer            (needs the S3 service: scripts/services/s3.sh start)
//   CASES=d npm run bench -- transfer    (only some cases: a, b, c, d)
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { content, makeTree } from '../src/testing/tree.ts';
import { aws, awsBest, awsDefault, cleanup, dropBuckets, ferry, freshBucket, report, requireS3, root, timed } from './lib.ts';
import type { Result } from './lib.ts';

const cases = (process.env.CASES ?? 'abcd').split('');

const big = join(root, 'big');
const small = join(root, 'small');
if (cases.includes('a')) {
  mkdirSync(big);
  const chunk = content('big', 64 * 1024 * 1024);
  for (let i = 0; i < 16; i++) writeFileSync(join(big, 'one-gib.bin'), chunk, { flag: i ? 'a' : 'w' });
}
if (cases.some((c) => 'bcd'.includes(c))) await makeTree(small, 10_000, 64 * 1024, 500);

if (cases.includes('a')) {
  requireS3();
  const file = join(big, 'one-gib.bin');
  const rs: Result[] = [];
  rs.push(timed('ferry cp (default)', ferry('cp', file, `s3://${freshBucket()}/`)));
  rs.push(timed('ferry cp --part-concurrency 16 --part-size 32M', ferry('cp', file, `s3://${freshBucket()}/`, '--part-concurrency', '16', '--part-size', '32M')));
  awsDefault();
  rs.push(timed('aws s3 cp (default)', aws('s3', 'cp', file, `s3://${freshBucket()}/`, '--only-show-errors')));
  awsBest();
  rs.push(timed('aws s3 cp (64 requests, 64 MB parts)', aws('s3', 'cp', file, `s3://${freshBucket()}/`, '--only-show-errors')));
  awsDefault();
  rs.push(timed('rclone copy (default)', ['rclone', 'copy', file, `bench:${freshBucket()}/`]));
  rs.push(timed('rclone copy (16 streams, 64M chunks)', ['rclone', 'copy', file, `bench:${freshBucket()}/`, '--s3-upload-concurrency', '16', '--s3-chunk-size', '64M']));
  report('(a) one 1 GiB file to S3', rs, 'Ferry wall time at most 0.8x the faster peer');
  await dropBuckets();
}

if (cases.includes('b') || cases.includes('c')) {
  requireS3();
  const rs: Result[] = [];
  const resync: Result[] = [];
  const fb = freshBucket();
  rs.push(timed('ferry cp (default)', ferry('cp', small, `s3://${fb}/`)));
  resync.push(timed('ferry sync (default)', ferry('sync', small, `s3://${fb}/`)));
  rs.push(timed('ferry cp --transfers 64', ferry('cp', small, `s3://${freshBucket()}/`, '--transfers', '64')));
  awsDefault();
  const ab = freshBucket();
  rs.push(timed('aws s3 sync (default)', aws('s3', 'sync', small, `s3://${ab}/`, '--only-show-errors')));
  resync.push(timed('aws s3 sync (default)', aws('s3', 'sync', small, `s3://${ab}/`, '--only-show-errors')));
  awsBest();
  rs.push(timed('aws s3 sync (64 requests)', aws('s3', 'sync', small, `s3://${freshBucket()}/`, '--only-show-errors')));
  awsDefault();
  const rb = freshBucket();
  rs.push(timed('rclone copy (default)', ['rclone', 'copy', small, `bench:${rb}/`]));
  resync.push(timed('rclone copy (default)', ['rclone', 'copy', small, `bench:${rb}/`]));
  resync.push(timed('rclone copy --fast-list --checkers 64', ['rclone', 'copy', small, `bench:${rb}/`, '--fast-list', '--checkers', '64']));
  rs.push(timed('rclone copy (--transfers 64 --checkers 64)', ['rclone', 'copy', small, `bench:${freshBucket()}/`, '--transfers', '64', '--checkers', '64', '--s3-no-check-bucket']));
  if (cases.includes('b')) report('(b) 10,000 files of 64 KiB to S3', rs, 'at least 3x faster than aws-cli and 1.5x faster than rclone');
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
  report('(d) 10,000 files of 64 KiB, local folder to local folder', rs, 'none set; Ferry fsyncs every file and checksums it, rsync and cp do neither');
}

await cleanup();
