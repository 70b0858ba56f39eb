// Listing the `.dat` files on the microscope PC over SSH, the way 01_gen_scope_dat_file_lists.sh
// does: `find <root>/Y…/M…/D…/ -name '*.dat'` for every day of the acquisition, from two days
// before the first logged tile (an acquisition is started, then tiles are logged later) to the last.
// All day folders go to one `find` in one connection: one login instead of one per day.
import { FerryError } from '../errors.ts';
import { acquisitionDay, scopeDayFolder } from '../formats/fibsem/names.ts';
import { runSsh } from './ssh.ts';
import type { SshTarget } from './ssh.ts';

const DAY_MS = 86_400_000;
/** How far before the first logged tile the seed's script looks. */
export const DAYS_BEFORE_FIRST = 2;

/** Every day `YYYY-MM-DD` from (earliest − 2 days) to the latest acquisition day among `names`. */
export function acquisitionDays(names: Iterable<string>): string[] {
  let first: string | undefined;
  let last: string | undefined;
  for (const n of names) {
    const day = acquisitionDay(n);
    if (day === undefined) continue;
    if (first === undefined || day < first) first = day;
    if (last === undefined || day > last) last = day;
  }
  if (first === undefined || last === undefined) return [];
  const days: string[] = [];
  for (let t = Date.parse(`${first}T00:00:00Z`) - DAYS_BEFORE_FIRST * DAY_MS; t <= Date.parse(`${last}T00:00:00Z`); t += DAY_MS) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

export interface ScopeFind {
  /** find's output: one path a line. */
  text: string;
  /** Day folders that do not exist on the scope (no acquisition that day). */
  absentDays: string[];
  /** Other complaints from find (unreadable folders...). */
  problems: string[];
}

export async function findScopeDats(target: SshTarget, datRoot: string, days: string[]): Promise<ScopeFind> {
  const root = datRoot.replace(/\/+$/, '');
  const folders = days.map((d) => `${root}/${scopeDayFolder(d)}/`);
  const r = await runSsh(target, ['find', ...folders, '-name', '*.dat', '-type', 'f']);
  const absentDays: string[] = [];
  const problems: string[] = [];
  for (const line of r.stderr.split('\n')) {
    if (!line.trim()) continue;
    const day = days.find((_, i) => line.includes(`'${folders[i]}'`) || line.includes(`‘${folders[i]}’`));
    if (day !== undefined && /No such file or directory/.test(line)) absentDays.push(day);
    else problems.push(line.trim());
  }
  // find exits 1 when a start folder is missing or unreadable; anything else means it did not run.
  if (r.code !== 0 && r.code !== 1) {
    throw new FerryError(`listing the scope ${target.host} failed: find exited with ${r.code}${problems.length ? `: ${problems.join('; ')}` : ''}`, {
      hint: 'the scope account needs a POSIX shell with find (Cygwin on the Windows scope PCs)',
      code: 'ScopeFindFailed',
    });
  }
  if (absentDays.length === days.length && days.length > 0) {
    throw new FerryError(`none of the ${days.length} day folders ${folders[0]} … ${folders.at(-1)} exist on ${target.host}`, {
      hint: 'check scope.datRoot in the tab description (it holds Y<year>/M<month>/D<day> folders)',
      code: 'ScopeNoDays',
    });
  }
  return { text: r.stdout, absentDays, problems };
}
