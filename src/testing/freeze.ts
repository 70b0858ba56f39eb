// Catching a child process in the middle of its work without racing it: the test stops it
// (SIGSTOP, then waits for the kernel to show every thread stopped) before it looks at what the
// child has done, so what it sees cannot change before it acts on it (a SIGKILL, a wait).
import type { ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { until } from './until.ts';

function ended(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** The scheduler states of every thread of `pid` (T: stopped), or [] once it is gone. */
async function threadStates(pid: number): Promise<string[]> {
  try {
    const tasks = await readdir(`/proc/${pid}/task`);
    // The state follows the command name, which is in parentheses and may hold any character.
    return await Promise.all(tasks.map(async (t) => (await readFile(`/proc/${pid}/task/${t}/stat`, 'utf8')).split(') ').pop()![0]));
  } catch {
    return [];
  }
}

/** Stops `child` and returns once none of its threads can run. */
export async function freeze(child: ChildProcess): Promise<void> {
  child.kill('SIGSTOP');
  await until(`process ${child.pid} to stop`, async () => {
    const states = await threadStates(child.pid!);
    if (states.length === 0 || states.includes('Z')) throw new Error(`process ${child.pid} ended while being stopped`);
    return states.every((s) => s === 'T' || s === 't');
  });
}

export function thaw(child: ChildProcess): void {
  child.kill('SIGCONT');
}

/**
 * Lets `child` work, stopping it each time `progress` has grown, until `caught` finds what it looks
 * for in what the stopped child has done. Returns what `caught` found, with the child still
 * stopped: the caller kills it, or thaws it once it has done what it needs to.
 */
export async function catchMidway<T>(
  child: ChildProcess,
  what: string,
  progress: () => Promise<number>,
  caught: () => Promise<T | undefined>,
): Promise<T> {
  let seen = -1;
  for (;;) {
    await until(`process ${child.pid} to make progress before it was caught ${what}`, async () => {
      if (ended(child)) throw new Error(`process ${child.pid} ended (${child.exitCode ?? child.signalCode}) before it was caught ${what}`);
      return (await progress()) > seen;
    });
    await freeze(child);
    const found = await caught();
    if (found !== undefined) return found;
    seen = await progress();
    thaw(child);
  }
}
