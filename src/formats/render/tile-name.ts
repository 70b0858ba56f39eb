// A `.dat` name as the FlyEM import reads it (EM_recon_pipeline dat_to_render.py, base_name_pattern):
// `.*((\d\d-\d\d-\d\d_\d{6})_\d-(\d)-(\d)).*`. This is not Ferry's own name reader
// (formats/fibsem/names.ts): the import's pattern has its own odd rules, reproduced on purpose so
// tile ids match the pipeline's:
// - section, row and column are ONE digit each. A row of 10 or more does not match at all (the
//   pipeline stops with "Invalid .dat file name"); a column of 10 or more matches its first digit
//   only (`_0-0-12` reads as column 1, tile id `..._0-0-1`), colliding with the real column 1.
// - the leading `.*` is greedy, so the last timestamp in the name is the one used.
// - the time is read with strptime("%y-%m-%d_%H%M%S"): two-digit years 69-99 are 1969-1999.

const PIPELINE_NAME = /^.*((\d\d-\d\d-\d\d_\d{6})_\d-(\d)-(\d))/;

export interface TileName {
  /** The file name without `.dat` (what the InLens PNG is named after). */
  core: string;
  /** `yy-mm-dd_HHMMSS_s-r-c`: the tile id before `.<z>.0`. */
  baseId: string;
  /** Acquisition time in whole seconds (a naive local time, only ever subtracted). */
  time: number;
  row: number;
  col: number;
}

/** undefined when the pipeline would refuse the name (no match, or a date strptime rejects). */
export function parseTileName(fileName: string): TileName | undefined {
  const m = PIPELINE_NAME.exec(fileName);
  if (!m) return undefined;
  const time = strptimeSeconds(m[2]);
  if (time === undefined) return undefined;
  const core = fileName.endsWith('.dat') ? fileName.slice(0, -4) : fileName;
  return { core, baseId: m[1], time, row: Number(m[3]), col: Number(m[4]) };
}

function strptimeSeconds(stamp: string): number | undefined {
  const [yy, mo, dd, hh, mi, ss] = [0, 3, 6, 9, 11, 13].map((at) => Number(stamp.slice(at, at + 2)));
  const year = yy < 69 ? 2000 + yy : 1900 + yy;
  const ms = Date.UTC(year, mo - 1, dd, hh, mi, ss);
  const d = new Date(ms);
  // strptime refuses out-of-range fields (month 13, 31 April, hour 24) instead of rolling them over.
  const valid = d.getUTCMonth() === mo - 1 && d.getUTCDate() === dd && d.getUTCHours() === hh && d.getUTCMinutes() === mi && d.getUTCSeconds() === ss;
  return valid ? ms / 1000 : undefined;
}
