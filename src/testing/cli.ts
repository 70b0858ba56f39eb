// Runs the real `ferry` command in a child process, as a user would, for tests.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FERRY_BIN = fileURLToPath(new URL('../../bin/ferry.js', import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Run as another user through runuser (tests that need a non-root view of permissions). */
  asUser?: string;
}

/**
 * A command run from no particular folder keeps its ledger in this test process's own folder, not
 * in the checkout's `.ferry/` (which would carry runs from one test run into the next).
 */
const OWN_LEDGER = join(ownFolder(), 'ledger.sqlite');

function ownFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-test-ledger-'));
  // Tests also run commands as another user (runuser), who must be able to use it too.
  chmodSync(dir, 0o1777);
  return dir;
}

export function startFerry(args: string[], opts: RunOptions = {}): ChildProcess {
  const cmd = opts.asUser ? 'runuser' : process.execPath;
  const argv = opts.asUser ? ['-u', opts.asUser, '--', process.execPath, FERRY_BIN, ...args] : [FERRY_BIN, ...args];
  const ledger = opts.cwd === undefined && !process.env.FERRY_LEDGER ? { FERRY_LEDGER: OWN_LEDGER } : {};
  return spawn(cmd, argv, { cwd: opts.cwd, env: { ...process.env, ...ledger, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
}

export function runFerry(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const child = startFerry(args, opts);
  return collect(child, opts.input);
}

export function collect(child: ChildProcess, input?: string): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  child.stdin?.end(input ?? '');
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Parses --json output: one object per line. */
export function jsonLines(stdout: string): Record<string, any>[] {
  return stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}
