// FIB-SEM file names, as the FlyEM pipeline (EM_recon_pipeline dat_path.py, check_tabs.py) reads
// them: `Merlin-6285_21-08-23_084156_0-0-0.dat` is scope Merlin-6285, acquired 2021-08-23 08:41:56,
// section 0, row 0, column 0. Every stage names a tile by its "core name" (the base name without
// `.dat`, `-InLens.png` or `.log`).

const DAT_NAME = /^(.*)_(\d\d)-(\d\d)-(\d\d)_(\d\d)(\d\d)(\d\d)_(\d+)-(\d+)-(\d+)/;
const STANDARD_CORE = /^Merlin.*_\d-\d-\d$/;
const MACHINE_JEISS = /Jeiss([1-9])\//;

export const DAT_SUFFIX = '.dat';
export const INLENS_SUFFIX = '-InLens.png';
export const LOG_SUFFIX = '.log';

export interface DatName {
  /** Base name without `.dat`. */
  core: string;
  /** e.g. `Merlin-6285`. */
  scope: string;
  /** Acquisition time as written in the name (scope local time), `YYYY-MM-DDTHH:MM:SS`. */
  acquired: string;
  /** `<scope>_<yy-mm-dd_HHMMSS>`: every tile with the same timestamp is one z layer. */
  layerId: string;
  section: number;
  row: number;
  column: number;
  /** `<section>-<row>-<column>`. */
  tileKey: string;
  /** Matches the pipeline's standard pattern; anything else is reported as non-standard. */
  standard: boolean;
}

/** Core name of a file at one stage, or undefined when the file does not belong to that stage. */
export function coreName(fileName: string, suffix: string): string | undefined {
  const slash = fileName.lastIndexOf('/');
  const base = slash < 0 ? fileName : fileName.slice(slash + 1);
  return base.endsWith(suffix) && base.length > suffix.length ? base.slice(0, -suffix.length) : undefined;
}

export function isStandardCore(core: string): boolean {
  return STANDARD_CORE.test(core);
}

/** Parses a `.dat` base or core name; undefined when it does not follow the acquisition pattern. */
export function parseDatName(name: string): DatName | undefined {
  const core = coreName(name, DAT_SUFFIX) ?? name.slice(name.lastIndexOf('/') + 1);
  const m = DAT_NAME.exec(core);
  if (!m) return undefined;
  const [, scope, yy, mo, dd, hh, mi, ss, section, row, column] = m;
  return {
    core,
    scope,
    acquired: `20${yy}-${mo}-${dd}T${hh}:${mi}:${ss}`,
    layerId: `${scope}_${yy}-${mo}-${dd}_${hh}${mi}${ss}`,
    section: Number(section),
    row: Number(row),
    column: Number(column),
    tileKey: `${section}-${row}-${column}`,
    standard: isStandardCore(core),
  };
}

/** The acquisition day of a name, `YYYY-MM-DD`, or undefined when the name has no timestamp. */
export function acquisitionDay(name: string): string | undefined {
  return parseDatName(name)?.acquired.slice(0, 10);
}

/** Folder of one day on the scope PC, relative to the `.dat` root: `Y2021/M08/D23`. */
export function scopeDayFolder(day: string): string {
  const [y, m, d] = day.split('-');
  return `Y${y}/M${m}/D${d}`;
}

/** `jeiss8.hhmi.org` from a MachineID such as `Jeiss8/Merlin-6284`; undefined if it names no Jeiss scope. */
export function scopeHostFromMachineId(machineId: string, domain = 'hhmi.org'): string | undefined {
  const m = MACHINE_JEISS.exec(machineId);
  return m ? `jeiss${m[1]}.${domain}` : undefined;
}
