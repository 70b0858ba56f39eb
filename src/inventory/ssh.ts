// Commands on a remote host through the system OpenSSH client, so that users' ~/.ssh/config,
// keys, agents and jump hosts work exactly as they do for `ssh` itself. Arguments go to ssh as an
// array (no local shell); the remote side runs the command through the login shell, so every
// argument is single-quoted for it here, which makes spaces, quotes and `$` in paths harmless.
import { spawn } from 'node:child_process';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FerryError } from '../errors.ts';

export interface SshTarget {
  /** Host or ~/.ssh/config alias. */
  host: string;
  /** An ssh_config file used instead of ~/.ssh/config (`ssh -F`). */
  configFile?: string;
}

/** A host that drops packets would otherwise hold each connection for the TCP timeout (minutes). */
const CONNECT_TIMEOUT_SECONDS = 15;

export interface SshResult {
  /** The remote command's exit status (never 255, which is reported as a FerryError). */
  code: number;
  stderr: string;
}

/** Quotes one argument for a POSIX shell: `it's` becomes `'it'\''s'`. */
export function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function sshArgs(target: SshTarget, remoteArgv: string[]): string[] {
  const args: string[] = [];
  if (target.configFile) args.push('-F', target.configFile);
  // BatchMode: a refused key or an unknown host key fails at once instead of prompting.
  args.push('-o', 'BatchMode=yes', '-o', `ConnectTimeout=${CONNECT_TIMEOUT_SECONDS}`);
  args.push('--', target.host, remoteArgv.map(shellQuote).join(' '));
  return args;
}

/**
 * Runs `remoteArgv` on the host, streaming its stdout into `stdout` (or collecting it). A failure
 * to connect or log in throws a FerryError (exit code 2); the remote command's own status is
 * returned for the caller to judge (find exits 1 when one of its folders is missing).
 */
export async function runSsh(target: SshTarget, remoteArgv: string[], stdout?: Writable, signal?: AbortSignal): Promise<SshResult & { stdout: string }> {
  const child = spawn('ssh', sshArgs(target, remoteArgv), { stdio: ['ignore', 'pipe', 'pipe'], signal });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, sig) => resolve([code, sig]));
  });
  const piped = stdout ? pipeline(child.stdout, stdout) : child.stdout.forEach((d: Buffer) => void (out += d.toString('utf8')));
  const [exit, pipe] = await Promise.allSettled([exited, piped]);
  if (exit.status === 'rejected') {
    const e = exit.reason as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') {
      throw new FerryError('the ssh client is not installed', { hint: 'install OpenSSH (Debian: apt-get install openssh-client)', code: 'NoSsh', cause: e });
    }
    throw e;
  }
  const [code, sig] = exit.value;
  if (code === 255) throw sshFailure(target, err);
  if (code === null) throw new FerryError(`ssh to ${target.host} was stopped (${sig})`, { exitCode: 1, code: 'SshStopped' });
  if (pipe.status === 'rejected') throw pipe.reason;
  return { code, stderr: err, stdout: out };
}

/** What went wrong before the remote command ran, in words a user can act on. */
export function sshFailure(target: SshTarget, stderr: string): FerryError {
  const detail = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('Warning: Permanently added'))
    .join('; ');
  const via = target.configFile ? ` (ssh config ${target.configFile})` : '';
  const [what, hint, code] = classify(stderr);
  return new FerryError(`cannot reach the scope host ${target.host}${via}: ${what}${detail ? ` [ssh: ${detail}]` : ''}`, { hint, code, exitCode: 2 });
}

function classify(stderr: string): [string, string, string] {
  if (/Permission denied/i.test(stderr)) {
    return ['the host refused the key', 'check that your key is in the scope account\'s authorized_keys and that IdentityFile / User in your ssh config are right (ssh runs with BatchMode=yes, so it never asks for a password)', 'SshAuth'];
  }
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(stderr)) {
    return ['the host key is unknown or changed', 'connect once with `ssh HOST` to accept the host key, or fix known_hosts', 'SshHostKey'];
  }
  if (/Could not resolve hostname/i.test(stderr)) {
    return ['unknown host name', 'check scope.host in the tab description (an alias must be defined in your ssh config)', 'SshResolve'];
  }
  if (/Connection refused|timed out|No route to host|Network is unreachable|Connection closed|Connection reset/i.test(stderr)) {
    return ['the host is unreachable', 'check that the scope PC is on and its SSH server is running, and the host / port in your ssh config', 'SshUnreachable'];
  }
  return ['ssh failed', 'run `ssh HOST true` by hand to see what is wrong', 'SshFailed'];
}
