// Copies one file from a remote host with `ssh HOST cat -- 'PATH'` into a new local file, flushed
// to disk. The remote file is only read; the local file is created exclusively, never overwritten.
import { createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { FerryError } from '../errors.ts';
import { runSsh } from './ssh.ts';
import type { SshTarget } from './ssh.ts';

/** Returns the number of bytes written to `localPath` (which must not exist yet). */
export async function fetchOverSsh(target: SshTarget, remotePath: string, localPath: string, signal?: AbortSignal): Promise<number> {
  const r = await runSsh(target, ['cat', '--', remotePath], createWriteStream(localPath, { flags: 'wx' }), signal);
  if (r.code !== 0) {
    throw new FerryError(`${target.host}:${remotePath}: cannot read it on the scope: ${r.stderr.trim() || `cat exited with ${r.code}`}`, {
      hint: 'check that the file still exists on the scope PC and that the scope account can read it',
      code: 'ScopeReadFailed',
      exitCode: 1,
    });
  }
  // The stream closed its descriptor; flush through a new one before the file is trusted.
  const handle = await open(localPath, 'r+');
  try {
    await handle.sync();
    return (await handle.stat()).size;
  } finally {
    await handle.close();
  }
}
