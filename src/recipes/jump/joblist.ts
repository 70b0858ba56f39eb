// The job files of the lab's old scripts: one text file per plate, named
// source_8__J1__A1170383.txt, holding the status on line 1, the plate folder on line 2, `---`,
// then log lines "[20240501-101500] message". Read so a half-done campaign continues in Ferry.
import { opendir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FerryError } from '../../errors.ts';

export type OldStatus = 'todo' | 'ongoing' | 'error' | 'success';

export interface OldJob {
  file: string;
  source: string;
  batch: string;
  plate: string;
  status: OldStatus;
  plateDir: string;
  log: { at: number | undefined; message: string }[];
}

const NAME_RE = /^(source_\d+)__(.+)__(.+)\.txt$/;

export async function readOldJobList(dir: string): Promise<{ jobs: OldJob[]; problems: { file: string; reason: string }[] }> {
  let handle;
  try {
    handle = await opendir(dir);
  } catch {
    throw new FerryError(`job list folder ${dir} cannot be read`, { hint: 'pass the folder the old 01_extract_joblist script wrote' });
  }
  const jobs: OldJob[] = [];
  const problems: { file: string; reason: string }[] = [];
  for await (const e of handle) {
    if (!e.isFile() || !e.name.endsWith('.txt')) continue;
    const m = NAME_RE.exec(e.name);
    if (!m) {
      problems.push({ file: e.name, reason: 'name is not source_N__batch__plate.txt' });
      continue;
    }
    if ([m[2], m[3]].some((part) => part === '.' || part === '..')) {
      problems.push({ file: e.name, reason: 'its batch or plate is "." or "..", not a folder name' });
      continue;
    }
    const lines = (await readFile(join(dir, e.name), 'utf8')).split('\n');
    // The old transfer script wrote "done" where it meant success.
    const status = lines[0]?.trim() === 'done' ? 'success' : (lines[0]?.trim() as OldStatus);
    if (!['todo', 'ongoing', 'error', 'success'].includes(status)) {
      problems.push({ file: e.name, reason: `line 1 is "${lines[0]}", not todo, ongoing, error or success` });
      continue;
    }
    if (!lines[1]?.trim()) {
      problems.push({ file: e.name, reason: 'line 2 (the plate folder) is empty' });
      continue;
    }
    const log = lines
      .slice(lines[2]?.trim() === '---' ? 3 : 2)
      .filter((l) => l.trim())
      .map((l) => {
        const t = /^\[(\d{4})(\d\d)(\d\d)-(\d\d)(\d\d)(\d\d)\]\s*(.*)$/.exec(l);
        if (!t) return { at: undefined, message: l };
        return { at: new Date(+t[1], +t[2] - 1, +t[3], +t[4], +t[5], +t[6]).getTime(), message: t[7] }; // local time, as written
      });
    jobs.push({ file: e.name, source: m[1], batch: m[2], plate: m[3], status, plateDir: lines[1].trim(), log });
  }
  jobs.sort((a, b) => a.file.localeCompare(b.file));
  return { jobs, problems };
}
