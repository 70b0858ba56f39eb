// The description of one FIB-SEM "tab" (one acquisition, ~120,000 tiles): where each stage of the
// transfer keeps its files and what the microscope operator says was acquired. Written by hand in
// YAML; relative paths are relative to the YAML file, so a tab folder can carry its own listing.
//
//   tab: Z0720-07m_VNC_Sec26
//   scope:
//     host: jeiss8.hhmi.org                 # as ssh reaches it (~/.ssh/config aliases work)
//     datRoot: /cygdrive/e/Images/Fly Brain # holds Y2021/M08/D23/<name>.dat
//     listing: Z0720-07m_VNC_Sec26_jeiss8.hhmi.org_scope_dat.txt   # optional: a saved listing
//     sshConfig: ~/.ssh/config_flyem        # optional: ssh -F; default is ssh's own ~/.ssh/config
//   folders:
//     transferredDat: /groups/flyem/data/Z0720-07m_VNC_Sec26/dat
//     archiveDat: /nearline/flyem2/data/Z0720-07m_VNC_Sec26/dat
//     inLensPng: /groups/flyem/data/Z0720-07m_VNC_Sec26/InLens
//     logs: /groups/flyem/data/Z0720-07m_VNC_Sec26/logs
//     quarantine: /nearline/flyem2/data/Z0720-07m_VNC_Sec26/dat_bad   # optional, default: dat_bad beside archiveDat
//   expected:                               # optional, from the microscope operator
//     firstDat: Merlin-6285_21-08-23_084156_0-0-0.dat
//     lastDat: Merlin-6285_21-09-02_170314_0-0-3.dat
//     count: 119208
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import YAML from 'yaml';
import { FerryError } from '../../errors.ts';

export interface Tab {
  tab: string;
  scope: {
    host: string;
    datRoot: string;
    listing?: string;
    sshConfig?: string;
  };
  /** Every folder absolute, the quarantine's default filled in. */
  folders: {
    transferredDat: string;
    archiveDat: string;
    inLensPng: string;
    logs: string;
    quarantine: string;
  };
  expected?: {
    firstDat?: string;
    lastDat?: string;
    count?: number;
  };
  /** The YAML file the tab was read from. */
  source: string;
}

/** Reads and validates a tab description; every path in the result is absolute. */
export async function loadTab(file: string): Promise<Tab> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new FerryError(`cannot read tab description ${file}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(e))}`, {
      hint: 'pass the path of the tab YAML file',
      cause: e,
    });
  }
  return parseTab(text, file);
}

export function parseTab(text: string, file: string): Tab {
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (e) {
    throw new FerryError(`${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`, { hint: 'fix the YAML syntax', cause: e });
  }
  const problems: string[] = [];
  const t = readTab(raw ?? {}, problems);
  if (t === undefined || problems.length > 0) {
    throw new FerryError(`${file}: ${problems.join('; ')}`, {
      hint: 'a tab needs tab, scope.host, scope.datRoot and folders.transferredDat, .archiveDat, .inLensPng, .logs; scope.listing, scope.sshConfig, folders.quarantine and expected.firstDat, .lastDat, .count are optional',
    });
  }
  const base = dirname(resolve(file));
  const abs = (p: string) => resolve(base, p);
  return {
    ...t,
    source: resolve(file),
    scope: {
      ...t.scope,
      listing: t.scope.listing === undefined ? undefined : abs(t.scope.listing),
      sshConfig: t.scope.sshConfig === undefined ? undefined : abs(expandHome(t.scope.sshConfig)),
    },
    folders: {
      transferredDat: abs(t.folders.transferredDat),
      archiveDat: abs(t.folders.archiveDat),
      inLensPng: abs(t.folders.inLensPng),
      logs: abs(t.folders.logs),
      // As 03_fetch_missing_dat.sh keeps them: bad dats in dat_bad/ next to the archive's dat/.
      quarantine: abs(t.folders.quarantine ?? join(dirname(abs(t.folders.archiveDat)), 'dat_bad')),
    },
  };
}

// ssh config paths are habitually written with ~, as ssh itself accepts them.
function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}

// The fields are checked by hand rather than with a schema library: every `fibsem check` reads
// the tab, an interactive command whose whole run is ~0.6 s, and loading zod took 50 ms of it
// (bench/fibsem-check.ts). Problems are listed in field order, each object's unknown fields last.

type TabFields = Omit<Tab, 'folders' | 'source'> & { folders: Omit<Tab['folders'], 'quarantine'> & { quarantine?: string } };

function readTab(raw: unknown, problems: string[]): TabFields | undefined {
  return readObject(raw, '', problems, (r) => ({
    tab: r.field('tab', text),
    scope: r.field('scope', (v, at) =>
      readObject(v, at, problems, (s) => ({
        host: s.field('host', text),
        datRoot: s.field('datRoot', text),
        listing: s.optional('listing', text),
        sshConfig: s.optional('sshConfig', text),
      })),
    ),
    folders: r.field('folders', (v, at) =>
      readObject(v, at, problems, (f) => ({
        transferredDat: f.field('transferredDat', text),
        archiveDat: f.field('archiveDat', text),
        inLensPng: f.field('inLensPng', text),
        logs: f.field('logs', text),
        quarantine: f.optional('quarantine', text),
      })),
    ),
    expected: r.optional('expected', (v, at) =>
      readObject(v, at, problems, (e) => ({ firstDat: e.optional('firstDat', datName), lastDat: e.optional('lastDat', datName), count: e.optional('count', count) })),
    ),
  })) as TabFields | undefined;
}

/** The value at `at` as it must be, or undefined once the problem with it is listed. */
type Check<T> = (value: unknown, at: string, problems: string[]) => T | undefined;

/** The fields of one object, read in order; the ones never read are unknown. */
class Fields {
  private readonly read = new Set<string>();
  private readonly o: Record<string, unknown>;
  private readonly at: string;
  private readonly problems: string[];

  constructor(o: Record<string, unknown>, at: string, problems: string[]) {
    this.o = o;
    this.at = at;
    this.problems = problems;
  }

  field<T>(key: string, check: Check<T>): T | undefined {
    if (this.o[key] === undefined) {
      this.read.add(key);
      this.problems.push(`${this.path(key)}: missing`);
      return undefined;
    }
    return this.optional(key, check);
  }

  optional<T>(key: string, check: Check<T>): T | undefined {
    this.read.add(key);
    return this.o[key] === undefined ? undefined : check(this.o[key], this.path(key), this.problems);
  }

  unknown(): void {
    const keys = Object.keys(this.o).filter((k) => !this.read.has(k)).map((k) => this.path(k));
    if (keys.length) this.problems.push(`unknown field${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`);
  }

  private path(key: string): string {
    return this.at ? `${this.at}.${key}` : key;
  }
}

function readObject<T extends object>(value: unknown, at: string, problems: string[], read: (f: Fields) => T): T | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(problems, `${at}: expected object`);
  const f = new Fields(value as Record<string, unknown>, at, problems);
  const fields = read(f);
  f.unknown();
  // An optional field left out of the YAML is left out of the result too.
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as T;
}

/** A string with something in it but blanks, trimmed. */
const text: Check<string> = (v, at, problems) => {
  if (typeof v !== 'string') return fail(problems, `${at}: expected string`);
  return v.trim() === '' ? fail(problems, `${at}: must not be empty`) : v.trim();
};

const datName: Check<string> = (v, at, problems) => {
  if (typeof v !== 'string') return fail(problems, `${at}: expected string`);
  return /^[^/]+$/.test(v) ? v : fail(problems, `${at}: must be a file name, not a path`);
};

const count: Check<number> = (v, at, problems) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) return fail(problems, `${at}: expected number`);
  if (!Number.isInteger(v)) return fail(problems, `${at}: must be a whole number`);
  return v < 0 ? fail(problems, `${at}: must not be negative`) : v;
};

function fail(problems: string[], problem: string): undefined {
  problems.push(problem);
  return undefined;
}
