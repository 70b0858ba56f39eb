// Row R4: destination objects overwritten by another client with different bytes of the same size,
// after Ferry verified them: a small object (`aws s3 cp`), a multipart one, and one overwritten with
// Ferry's own metadata copied over (its CRC32C note then lies about the bytes). `ferry check
// --checksum` must name each and exit 1; `ferry sync --checksum` must send exactly those again,
// after which rclone reads every object back identical. On the S3 server test-all started.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { awsCliEnv } from '../../src/testing/s3.ts';
import { jsonLines, runFerry } from '../../src/testing/cli.ts';
import { tempDir } from '../../src/testing/tree.ts';
import type { FaultCase, FaultRow } from './row.ts';
import { bigFile, bucketOn, ferryEnv, rcloneCheck, sharedS3, smallFiles } from './s3-faults.ts';

const AWS = '/usr/bin/aws';
const SMALL = 200;

export const row: FaultRow = {
  id: 'R4',
  title: 'objects overwritten with other bytes of the same size',
  async run() {
    const server = sharedS3();
    const dir = await tempDir('ferry-r4-');
    const src = join(dir, 'src');
    await smallFiles(src, SMALL);
    await bigFile(join(src, 'big.bin'), 40 * 1024 * 1024, 3);
    const total = SMALL + 1;
    const { bucket, s3, drop } = await bucketOn(server, 'r4');
    try {
      const env = ferryEnv(server, { FERRY_LEDGER: join(dir, 'ledger.sqlite') });
      const dst = `s3://${bucket}/r4`;
      const first = await runFerry(['cp', src, dst, '--part-size', '8M'], { env });
      if (first.code !== 0) throw new Error(`the first copy failed: ${first.stderr}`);

      // Other bytes, same size: one byte flipped in each.
      const victims = { plain: 'd0/f3.bin', multipart: 'big.bin', note: 'd0/f7.bin' };
      const aws = (...args: string[]) => promisify(execFile)(AWS, ['--endpoint-url', server.endpoint, ...args], { env: awsCliEnv(server), maxBuffer: 1 << 24 });
      for (const [how, key] of Object.entries(victims)) {
        const bytes = await readFile(join(src, key));
        bytes[bytes.length >> 1] ^= 0xff;
        const other = join(dir, `other-${how}`);
        await writeFile(other, bytes);
        if (how === 'note') {
          // A writer that keeps Ferry's metadata: the stored CRC32C note now describes other bytes.
          const meta = (await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `r4/${key}` }))).Metadata ?? {};
          await aws('s3api', 'put-object', '--bucket', bucket, '--key', `r4/${key}`, '--body', other, '--metadata', Object.entries(meta).map(([k, v]) => `${k}=${v}`).join(','));
        } else {
          await aws('s3', 'cp', other, `s3://${bucket}/r4/${key}`);
        }
      }
      const expected = Object.values(victims).sort();

      const checked = await runFerry(['check', '--checksum', src, dst, '--json'], { env });
      const report = jsonLines(checked.stdout).find((e) => e.type === 'check');
      const named = (report?.differing ?? []).map((d: { key: string }) => d.key).sort();
      const cases: FaultCase[] = [{
        done: `3 of ${total} objects overwritten with other bytes of the same size (aws s3 cp; multipart; Ferry's metadata kept)`,
        checked: 'ferry check --checksum names each, exit 1',
        pass: checked.code === 1 && JSON.stringify(named) === JSON.stringify(expected),
        lost: 'nothing (a check)',
        detail: [`exit ${checked.code}, differing: ${named.join(', ') || 'none'}`],
      }];

      const synced = await runFerry(['sync', '--checksum', src, dst, '--json', '--part-size', '8M'], { env });
      const events = jsonLines(synced.stdout);
      const sent = events.filter((e) => e.type === 'copied').map((e) => e.key).sort();
      const summary = events.find((e) => e.type === 'summary');
      const read = await rcloneCheck(server, src, bucket, 'r4');
      cases.push({
        done: 'ferry sync --checksum after the overwrites',
        checked: 'exactly those 3 sent again, exit 0; every object read back identical (rclone)',
        pass: synced.code === 0 && JSON.stringify(sent) === JSON.stringify(expected) && read.ok && read.matching === total,
        lost: read.ok && read.matching === total ? 'nothing' : `${total - read.matching} object(s) still differing`,
        detail: [`exit ${synced.code}, sent again: ${sent.join(', ') || 'none'}, unchanged by content ${summary?.unchangedByContent}`, `rclone: ${read.said}`],
      });
      return cases;
    } finally {
      await drop();
    }
  },
};
