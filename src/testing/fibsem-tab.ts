// A generated FIB-SEM tab on local folders, for the tests and the check benchmark: a scope `.dat`
// root with day folders (its name has a space, as the real `/cygdrive/e/Images/Fly Brain` does),
// the four transfer stages, and the tab YAML pointing at them. Files are tiny `.dat`s (or empty
// placeholders when only the names matter).
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import YAML from 'yaml';
import { DAT_SUFFIX, INLENS_SUFFIX, LOG_SUFFIX, scopeDayFolder, acquisitionDay } from '../formats/fibsem/names.ts';
import { syntheticDat } from './fibsem-dat.ts';

export interface TestTabLayout {
  root: string;
  scopeRoot: string;
  transferredDat: string;
  archiveDat: string;
  inLensPng: string;
  logs: string;
  quarantine: string;
  yaml: string;
}

export function testTabLayout(root: string): TestTabLayout {
  return {
    root,
    scopeRoot: join(root, 'scope', 'Fly Brain'),
    transferredDat: join(root, 'groups', 'dat'),
    archiveDat: join(root, 'nearline', 'dat'),
    inLensPng: join(root, 'groups', 'InLens'),
    logs: join(root, 'groups', 'logs'),
    quarantine: join(root, 'nearline', 'dat_bad'),
    yaml: join(root, 'tab.yaml'),
  };
}

/** A small valid tile whose pixels depend on its name, so two tiles differ. */
export function tileBytes(core: string): Buffer {
  let seed = 0;
  for (const ch of core) seed = (seed * 31 + ch.charCodeAt(0)) >>> 0;
  return syntheticDat({ width: 24, height: 16, sample: (i, c) => ((i * 37 + seed + c * 11) % 4000) - 2000 });
}

/** `<root>/Y…/M…/D…/<core>.dat` on the scope. */
export function scopePath(scopeRoot: string, core: string): string {
  return join(scopeRoot, scopeDayFolder(acquisitionDay(core)!), core + DAT_SUFFIX);
}

export async function makeStageFolders(l: TestTabLayout): Promise<void> {
  for (const d of [l.scopeRoot, l.transferredDat, l.archiveDat, l.inLensPng, l.logs]) await mkdir(d, { recursive: true });
}

/** Writes a file on the scope, readable by the scope account (the sshd test user is not root). */
export async function writeScopeFile(l: TestTabLayout, core: string, data: Uint8Array): Promise<string> {
  const p = scopePath(l.scopeRoot, core);
  await mkdir(join(p, '..'), { recursive: true, mode: 0o755 });
  await writeFile(p, data, { mode: 0o644 });
  return p;
}

/** Every folder from the temp root down, world-readable, so the scope account can list them. */
export async function openForScopeUser(l: TestTabLayout, dirs: string[]): Promise<void> {
  for (const d of [l.root, ...dirs]) await chmod(d, 0o755);
}

/** A tile that made it through every stage: dat in both folders, PNG and log (contents unchecked). */
export async function writeStages(l: TestTabLayout, core: string, stages: { transferred?: boolean; archive?: boolean; png?: boolean; log?: boolean }, data: Uint8Array): Promise<void> {
  if (stages.transferred) await writeFile(join(l.transferredDat, core + DAT_SUFFIX), data);
  if (stages.archive) await writeFile(join(l.archiveDat, core + DAT_SUFFIX), data);
  if (stages.png) await writeFile(join(l.inLensPng, core + INLENS_SUFFIX), 'png');
  if (stages.log) await writeFile(join(l.logs, core + LOG_SUFFIX), 'log');
}

export async function writeTabYaml(l: TestTabLayout, scope: { host: string; sshConfig?: string; listing?: string }, extra: Record<string, unknown> = {}): Promise<string> {
  const doc = {
    tab: 'Z0720-07m_TEST_Sec01',
    scope: { host: scope.host, datRoot: l.scopeRoot, ...(scope.sshConfig ? { sshConfig: scope.sshConfig } : {}), ...(scope.listing ? { listing: scope.listing } : {}) },
    folders: { transferredDat: l.transferredDat, archiveDat: l.archiveDat, inLensPng: l.inLensPng, logs: l.logs, quarantine: l.quarantine },
    ...extra,
  };
  await writeFile(l.yaml, YAML.stringify(doc));
  return l.yaml;
}
