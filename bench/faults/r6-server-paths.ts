// Row R6: every server Ferry runs (today `ferry volume serve`) answers nothing from outside its
// folder, however the path is written: '..', encoded '..', symbolic links, NUL, backslashes.
// Servers added later (the web page) add their start command to SERVERS.
import { spawn } from 'node:child_process';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FERRY_BIN } from '../../src/testing/cli.ts';
import { rawGet } from '../../src/testing/net.ts';
import { tempDir } from '../../src/testing/tree.ts';
import type { FaultCase, FaultRow } from './row.ts';

const SECRET = 'r6-secret-outside-the-folder';

/** name -> the ferry arguments that serve `dir` (the server prints its URL on stdout). */
const SERVERS: Record<string, (dir: string) => string[]> = {
  'volume serve': (dir) => ['volume', 'serve', dir],
};

const ATTEMPTS: [group: string, paths: string[]][] = [
  ['plain ..', ['/../secret', '/../../../../etc/passwd', '/scale/../../secret', '/./../secret']],
  ['encoded ..', ['/%2e%2e/secret', '/%2E%2E%2Fsecret', '/..%2fsecret', '/scale/%2e%2e%2f%2e%2e%2fsecret', '/%252e%252e/secret', '/..%5csecret', '/%c0%ae%c0%ae/secret']],
  ['symbolic links', ['/link-to-file', '/scale/link-to-folder/key', '/link-to-folder/key', '/link-to-root/etc/passwd']],
  ['odd spellings', ['//etc/passwd', '/info%00', '/..\\secret', '/%zz', '/' + 'a/'.repeat(500) + '../'.repeat(501) + 'secret']],
];

/** A dataset folder with links leading out, beside a secret that must never be served. */
async function folderWithWaysOut(): Promise<string> {
  const base = await tempDir('ferry-r6-');
  const dir = join(base, 'data');
  await mkdir(join(dir, 'scale'), { recursive: true });
  await writeFile(join(dir, 'info'), JSON.stringify({ '@type': 'neuroglancer_multiscale_volume', type: 'image', data_type: 'uint8', num_channels: 1, scales: [{ key: 'scale', size: [1, 1, 1], resolution: [1, 1, 1], voxel_offset: [0, 0, 0], chunk_sizes: [[1, 1, 1]], encoding: 'raw' }] }));
  await writeFile(join(base, 'secret'), SECRET);
  await mkdir(join(base, 'private'));
  await writeFile(join(base, 'private', 'key'), SECRET);
  await symlink(join(base, 'secret'), join(dir, 'link-to-file'));
  await symlink(join(base, 'private'), join(dir, 'scale', 'link-to-folder'));
  await symlink(join(base, 'private'), join(dir, 'link-to-folder'));
  await symlink('/', join(dir, 'link-to-root'));
  return dir;
}

async function serve(args: string[]): Promise<{ port: number; stop(): void }> {
  const child = spawn(process.execPath, [FERRY_BIN, '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  for (let i = 0; i < 600; i++) {
    const m = /"url":"http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
    if (m) return { port: Number(m[1]), stop: () => child.kill('SIGTERM') };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`ferry ${args.join(' ')} did not start serving: ${out}`);
}

export const row: FaultRow = {
  id: 'R6',
  title: 'servers Ferry runs: no path out of their folder',
  async run() {
    const cases: FaultCase[] = [];
    for (const [name, args] of Object.entries(SERVERS)) {
      const dir = await folderWithWaysOut();
      const server = await serve(args(dir));
      try {
        for (const [group, paths] of ATTEMPTS) {
          const leaks: string[] = [];
          const statuses: number[] = [];
          for (const p of paths) {
            const r = await rawGet(server.port, p);
            statuses.push(r.status);
            if (r.body.includes(SECRET) || /root:x?:0:0/.test(r.body) || r.status === 200 || r.status >= 500) leaks.push(`${p}: ${r.status} ${r.body.slice(0, 60)}`);
          }
          cases.push({
            done: `${name}: ${paths.length} requests by ${group} (${[...new Set(statuses)].join('/')})`,
            checked: 'no file from outside the folder, no server error',
            pass: leaks.length === 0,
            lost: leaks.length ? 'served from outside its folder' : 'nothing',
            detail: leaks,
          });
        }
        const inside = await rawGet(server.port, '/scale/../info');
        cases.push({ done: `${name}: a '..' that stays inside`, checked: 'still served (200)', pass: inside.status === 200, lost: 'nothing' });
      } finally {
        server.stop();
      }
    }
    return cases;
  },
};
