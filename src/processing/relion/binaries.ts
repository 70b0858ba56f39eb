// Finds the RELION 3.1 programs the runner calls. relion_pipeliner starts its jobs through the
// shell by bare name (`which relion_run_motioncorr`), so the folder that holds them goes first on
// the PATH of everything the runner starts.
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { FerryError } from '../../errors.ts';

const PROGRAMS = ['relion_pipeliner', 'relion_import', 'relion_run_motioncorr', 'relion_run_ctffind'];
const INSTALL_HINT =
  'install the Debian package relion (apt-get install relion), or set FERRY_RELION_BIN to the folder holding the RELION 3.1 programs';

export interface Relion {
  bin: string;
  version: string;
}

const found = new Map<string, Promise<Relion>>();

async function executable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** The folder on PATH holding an executable of that name. */
async function folderOnPath(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  for (const d of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    if (await executable(join(d, name))) return d;
  }
  return undefined;
}

async function locate(bin: string | undefined): Promise<Relion> {
  const dir = bin ?? (await folderOnPath(PROGRAMS[0]));
  for (const p of PROGRAMS) {
    if (!dir || !(await executable(join(dir, p)))) {
      throw new FerryError(`RELION is not installed: ${p} was not found ${bin ? `in ${bin} (FERRY_RELION_BIN)` : 'on PATH'}`, { hint: INSTALL_HINT });
    }
  }
  let out: string;
  try {
    out = (await promisify(execFile)(join(dir!, PROGRAMS[0]), ['--version'], { timeout: 30_000 })).stdout;
  } catch (e) {
    throw new FerryError(`RELION's relion_pipeliner in ${dir} does not run: ${(e as Error).message.split('\n')[0]}`, { hint: INSTALL_HINT });
  }
  const version = /RELION version:\s*(\S+)/.exec(out)?.[1];
  if (!version?.startsWith('3.1')) {
    throw new FerryError(`RELION in ${dir} is version ${version ?? 'unknown'}; Ferry drives RELION 3.1`, { hint: INSTALL_HINT });
  }
  return { bin: dir!, version };
}

/** The RELION install to use (FERRY_RELION_BIN, else the first on PATH), checked once per process. */
export function findRelion(bin: string | undefined = process.env.FERRY_RELION_BIN || undefined): Promise<Relion> {
  const key = bin ?? '';
  let r = found.get(key);
  if (!r) {
    r = locate(bin);
    found.set(key, r);
    r.catch(() => found.delete(key));
  }
  return r;
}

/** RELION's CtfFind runs CTFFIND through a csh script per micrograph, and skips every one without csh. */
export async function checkCsh(env: NodeJS.ProcessEnv): Promise<void> {
  if (!(await folderOnPath('csh', env))) {
    throw new FerryError("RELION's CtfFind needs csh, which is not installed", { hint: 'install the Debian package csh (apt-get install csh)' });
  }
}

/** The environment RELION programs run in: its folder first on PATH. */
export function relionEnv(bin: string, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...env, PATH: [bin, env.PATH].filter(Boolean).join(delimiter) };
}
