// JUMP benchmark (issue 4): one plate of 20,000 files of 16 KiB to the real S3 server, Ferry's plate
// job (plan + worker) against `aws s3 sync`, which the gallery's upload guide tells labs to run.
//   npm run bench -- jump     (needs the S3 service running and its env exported)
import { join } from 'node:path';
import { makeTree } from '../src/testing/tree.ts';
import { aws, cleanup, dropBuckets, env, ferry, freshBucket, report, requireS3, root, timed } from './lib.ts';
import type { Result } from './lib.ts';

requireS3();
const results = join(root, 'results');
const plate = join(results, 'cpg0016-jump/source_1/workspace/segmentation/cellpose/objects/B1/PLATE1');
await makeTree(join(plate, 'PLATE1.zarr'), 20_000, 16 * 1024, 400);

const rs: Result[] = [];
const fb = freshBucket();
const jobEnv = { ...env, FERRY_LEDGER: join(root, 'jump-ledger.sqlite') };
timed('ferry jump plan', ferry('jump', 'plan', '--results', results, '--dest', `s3://${fb}/LAB`, '--run', 'bench'), { env: jobEnv });
rs.push(timed('ferry work (the plate job, default)', ferry('work', '--run', 'bench', '--until-empty'), { env: jobEnv }));
await dropBuckets(); // aws meets the same empty server Ferry did
rs.push(timed('aws s3 sync (default)', aws('s3', 'sync', plate, `s3://${freshBucket()}/LAB/`, '--only-show-errors', '--acl', 'bucket-owner-full-control')));
report('One JUMP plate: 20,000 files of 16 KiB to S3', rs, 'at least 3x faster than aws s3 sync');
await cleanup();
