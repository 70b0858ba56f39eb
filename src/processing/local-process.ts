// Identity and process groups of processes on this machine, from Linux's /proc: a pid alone can be
// reused, so a process is named by its pid plus its start time (clock ticks since boot, field 22 of
// /proc/PID/stat) plus the boot it belongs to.
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';

export interface ProcessIdentity {
  host: string;
  bootId: string;
  pid: number;
  /** Start time in clock ticks since boot, as /proc/PID/stat gives it. */
  startTicks: string;
}

let cachedBootId: string | undefined;

export function bootId(): string {
  cachedBootId ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return cachedBootId;
}

/** pgrp (field 5) and starttime (field 22) of a live process; undefined once it is gone. */
async function procStat(pid: number): Promise<{ pgrp: number; startTicks: string; zombie: boolean } | undefined> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pgrp: Number(rest[2]), startTicks: rest[19], zombie: rest[0] === 'Z' };
}

export async function identify(pid: number): Promise<ProcessIdentity | undefined> {
  const s = await procStat(pid);
  return s && { host: hostname(), bootId: bootId(), pid, startTicks: s.startTicks };
}

/**
 * Whether the process was started on this machine since its last boot, so that its pid means the
 * same here. (A host name alone is not enough: a rebooted machine, or another with the same name.)
 */
export function onThisMachine(who: Pick<ProcessIdentity, 'host' | 'bootId'>): boolean {
  return who.host === hostname() && who.bootId === bootId();
}

/** Whether the very process named is still running (a zombie has ended: it only waits to be reaped). */
export async function isRunning(who: ProcessIdentity): Promise<boolean> {
  if (!onThisMachine(who)) return false;
  const s = await procStat(who.pid);
  return s !== undefined && !s.zombie && s.startTicks === who.startTicks;
}

/** Live processes in the group (zombies excluded). */
export async function groupMembers(pgid: number): Promise<number[]> {
  const members: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = await procStat(Number(name));
    if (s && s.pgrp === pgid && !s.zombie) members.push(Number(name));
  }
  return members;
}

/**
 * The live members of the group its leader started, or none if that group is gone. A group id is a
 * pid, and Linux does not hand a pid out again while a group of that id has members; so members
 * with this group id belong to the leader's group unless a new process holds the leader's pid.
 */
export async function groupOf(leader: ProcessIdentity): Promise<number[]> {
  if (!onThisMachine(leader)) return [];
  const holder = await procStat(leader.pid);
  if (holder && holder.startTicks !== leader.startTicks) return [];
  return groupMembers(leader.pid);
}

/** Sends a signal to every process of the leader's group (if it still has members). */
export async function signalGroup(leader: ProcessIdentity, signal: NodeJS.Signals): Promise<boolean> {
  if ((await groupOf(leader)).length === 0) return false;
  try {
    process.kill(-leader.pid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}
