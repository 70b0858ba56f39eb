// The tiles of one stage folder of a tab: the core names (file name less the stage's suffix) of
// the entries that are not folders, as a NameList. Listed by the listdir addon where it is built
// (native/listdir: getdents64 into one buffer, sorted on the thread pool, one string back), else
// with fs.readdir (listFolderNames). On folders of 120,000 files the addon takes ~60% of readdir's
// CPU (most of the rest is the kernel's reading of the folder, which both pay) and leaves the main
// thread one string instead of 120,000 (bench/fibsem-check.ts).
import { loadAddon } from '../native-addon.ts';
import { listFailure, listFolderNames } from './list-folder.ts';
import { fromNames, fromPacked } from './name-list.ts';
import type { NameList } from './name-list.ts';

/** What native/listdir/addon.c exports. */
export interface Listdir {
  /** Cores of the entries of `dir` that are not folders and end with `suffix`, each followed by a NUL. */
  listCores(dir: string, suffix: string): Promise<string>;
}

/** Where native/listdir/build.sh puts the addon. */
export const LISTDIR_ADDON = new URL('../../native/listdir/build/Release/listdir_addon.node', import.meta.url);

let loaded: { lister: Listdir | undefined } | undefined;

/** The addon at `file`, or undefined when it is not built here (see loadAddon). */
export function loadListdir(file: URL = LISTDIR_ADDON): Listdir | undefined {
  return loadAddon<Listdir>(file, 'listdir', 'list with fs.readdir');
}

/** `what` says which configured folder this is, so a message names the field to fix. */
export async function listStageCores(dir: string, suffix: string, what: string, lister: Listdir | undefined = (loaded ??= { lister: loadListdir() }).lister): Promise<NameList> {
  if (lister === undefined) {
    const cores = [];
    for (const n of await listFolderNames(dir, what)) if (n.length > suffix.length && n.endsWith(suffix)) cores.push(n.slice(0, -suffix.length));
    return fromNames(cores);
  }
  let text: string;
  try {
    text = await lister.listCores(dir, suffix);
  } catch (e) {
    throw listFailure(e, dir, what);
  }
  return fromPacked(text);
}
