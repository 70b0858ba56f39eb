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
//   render:                                 # optional, for `render-import`; its flags override these
//     url: http://renderer:8080/render-ws/v1
//     owner: Z0720_07m_VNC
//     project: Sec26
//     stack: v1_acquire                     # optional, the pipeline's default
//     maskDir: /groups/flyem/data/render/pre_iso/masks   # optional: without it, tiles get no mask
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { FerryError } from '../../errors.ts';

const DAT_NAME = /^[^/]+$/;
const path = z.string().trim().min(1, 'must not be empty');

const TabSchema = z.strictObject({
  tab: z.string().trim().min(1, 'must not be empty'),
  scope: z.strictObject({
    host: z.string().trim().min(1, 'must not be empty'),
    datRoot: path,
    listing: path.optional(),
    sshConfig: path.optional(),
  }),
  folders: z.strictObject({
    transferredDat: path,
    archiveDat: path,
    inLensPng: path,
    logs: path,
    quarantine: path.optional(),
  }),
  expected: z
    .strictObject({
      firstDat: z.string().regex(DAT_NAME, 'must be a file name, not a path').optional(),
      lastDat: z.string().regex(DAT_NAME, 'must be a file name, not a path').optional(),
      count: z.number().int('must be a whole number').nonnegative('must not be negative').optional(),
    })
    .optional(),
  render: z
    .strictObject({
      url: z.string().trim().regex(/^https?:\/\/[^/]/, 'must be an http(s) URL, e.g. http://renderer:8080/render-ws/v1').optional(),
      owner: z.string().trim().min(1, 'must not be empty').optional(),
      project: z.string().trim().min(1, 'must not be empty').optional(),
      stack: z.string().trim().min(1, 'must not be empty').optional(),
      maskDir: path.optional(),
    })
    .optional(),
});

type TabFields = z.infer<typeof TabSchema>;

export type Tab = Omit<TabFields, 'folders'> & {
  /** Every folder absolute, the quarantine's default filled in. */
  folders: Required<TabFields['folders']>;
  /** The YAML file the tab was read from. */
  source: string;
};

/** Reads and validates a tab description; every path in the result is absolute. */
export async function loadTab(file: string): Promise<Tab> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8'); // a few hundred bytes: no trips through the thread pool
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
  const parsed = TabSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => describeIssue(i));
    throw new FerryError(`${file}: ${problems.join('; ')}`, {
      hint: 'a tab needs tab, scope.host, scope.datRoot and folders.transferredDat, .archiveDat, .inLensPng, .logs; scope.listing, scope.sshConfig, folders.quarantine, expected.firstDat, .lastDat, .count and render.url, .owner, .project, .stack, .maskDir are optional',
    });
  }
  const base = dirname(resolve(file));
  const t = parsed.data;
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
    render: t.render && { ...t.render, maskDir: t.render.maskDir === undefined ? undefined : abs(t.render.maskDir) },
  };
}

// ssh config paths are habitually written with ~, as ssh itself accepts them.
function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const at = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (at ? `${at}.${k}` : k));
    return `unknown field${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`;
  }
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) return `${at}: missing`;
  if (issue.code === 'invalid_type' && issue.message.startsWith('Invalid input')) return `${at}: expected ${issue.expected}`;
  return `${at}: ${issue.message}`;
}
