// Row R3: real credential expiry. Ferry's --credential-command creates a fresh S3 key on the server
// each time it runs (radosgw-admin key create) and says it expires in 45 s; a loop deletes every
// key it created once that key is 60 s old (radosgw-admin key rm), so a key Ferry did not replace
// in time stops working for real. A sync slowed to last several minutes must end with zero failed
// files, every object read back identical by rclone. A private Ceph of this row's own (see
// s3-faults.ts), never the shared one: its keys are changed.
import { execFile } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { collect, jsonLines, startFerry } from '../../src/testing/cli.ts';
import { tempDir } from '../../src/testing/tree.ts';
import type { FaultRow } from './row.ts';
import { bigFile, bucketOn, ferryEnv, privateS3, rcloneCheck, smallFiles, uploadsLeft } from './s3-faults.ts';

const SMALL = 3000;
const BIG = 4;
const KEY_LIFE_S = 60;
const run = promisify(execFile);

/** The credential command: a new key on the server per run, printed with an expiry 45 s ahead. */
function credentialScript(keysFile: string): string {
  return `#!/bin/sh
set -e
ak="FR3$(tr -dc 'A-Z0-9' </dev/urandom | head -c 17)"
sk="$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 40)"
radosgw-admin key create --uid=ferry-test --key-type=s3 --access-key="$ak" --secret-key="$sk" >/dev/null
echo "$ak $(date +%s)" >> ${keysFile}
printf '{"AccessKeyId":"%s","SecretAccessKey":"%s","SessionToken":"","Expiration":"%s"}' "$ak" "$sk" "$(date -u -d '+45 seconds' +%Y-%m-%dT%H:%M:%SZ)"
`;
}

export const row: FaultRow = {
  id: 'R3',
  title: 'S3 keys created by the credential command and deleted 60 s later, during a campaign of minutes',
  async run() {
    const server = await privateS3('r3');
    try {
      const dir = await tempDir('ferry-r3-');
      const src = join(dir, 'src');
      await smallFiles(src, SMALL);
      for (let i = 0; i < BIG; i++) await bigFile(join(src, `big${i}.bin`), 80 * 1024 * 1024, i + 11);
      const total = SMALL + BIG;
      const keysFile = join(dir, 'keys.txt');
      const cmd = join(dir, 'creds.sh');
      await writeFile(cmd, credentialScript(keysFile));
      await chmod(cmd, 0o755);
      const { bucket, drop } = await bucketOn(server, 'r3');
      try {
        const env = ferryEnv(server, { ...server.env, FERRY_LEDGER: join(dir, 'ledger.sqlite'), AWS_ACCESS_KEY_ID: 'none', AWS_SECRET_ACCESS_KEY: 'none' });
        const started = Date.now();
        const child = startFerry(['sync', src, `s3://${bucket}/r3`, '--json', '--bwlimit', '2M', '--transfers', '8', '--part-size', '8M',
          '--credential-command', cmd, '--endpoint-url', server.endpoint], { env });
        const done = collect(child);
        // The reaper: every key the command created goes once it is KEY_LIFE_S old.
        const deleted = new Set<string>();
        let reaping = true;
        const reaper = (async () => {
          while (reaping) {
            const lines = (await readFile(keysFile, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
            for (const [ak, at] of lines.map((l) => l.split(' '))) {
              if (deleted.has(ak) || Date.now() / 1000 - Number(at) < KEY_LIFE_S) continue;
              await run('radosgw-admin', ['key', 'rm', '--uid=ferry-test', '--key-type=s3', `--access-key=${ak}`], { env: server.env });
              deleted.add(ak);
            }
            // A reaper's own pace, not a test's wait: keys go within a second of their 60 s.
            await sleep(1000);
          }
        })();
        const r = await done;
        reaping = false;
        await reaper;
        const minutes = (Date.now() - started) / 60_000;
        const created = (await readFile(keysFile, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean).length;
        const summary = jsonLines(r.stdout).find((e) => e.type === 'summary');
        const read = await rcloneCheck(server, src, bucket, 'r3');
        const left = await uploadsLeft(server, bucket);
        const pass = r.code === 0 && summary?.failedFiles === 0 && summary?.verifiedFiles === total && deleted.size >= 3 && read.ok && read.matching === total && left === 0;
        return [{
          done: `sync of ${SMALL} files + ${BIG} x 80 MB for ${minutes.toFixed(1)} min: ${created} keys created by the credential command, ${deleted.size} deleted at ${KEY_LIFE_S} s`,
          checked: 'zero failed files, every file verified, read back identical (rclone), 0 uploads left',
          pass,
          lost: read.ok && read.matching === total ? 'nothing' : `${total - read.matching} object(s) missing or differing`,
          detail: [`ferry exit ${r.code}, verified ${summary?.verifiedFiles} of ${total}, failed ${summary?.failedFiles}`, `rclone: ${read.said}`, `uploads left ${left}`,
            ...(pass ? [] : [r.stderr.split('\n').slice(-5).join(' | ')])],
        }];
      } finally {
        await drop();
      }
    } finally {
      await server.stop();
    }
  },
};
