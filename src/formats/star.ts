// RELION's STAR files (a subset of STAR/CIF): `data_NAME` blocks, each holding either key-value
// lines (`_rlnLabel value`) or one `loop_` table (labels `_rlnLabel #n`, then one row per line).
// Comments start with '#'; values are whitespace-separated, and quoted ("..." or '...') when they
// contain spaces or are empty. Enough to read default_pipeline.star, job.star, movies.star and the
// MotionCorr outputs; RELION itself writes every file Ferry reads with it.
import { FerryError } from '../errors.ts';

export interface StarTable {
  /** Labels without the leading underscore, in column order (e.g. rlnMicrographName). */
  columns: string[];
  rows: string[][];
}

export interface StarBlock {
  name: string;
  /** Key-value lines, by label without the underscore. */
  values: Map<string, string>;
  /** The block's loop_ table, when it has one. */
  table?: StarTable;
}

/** Splits a line into values; a quoted value keeps its spaces and may be empty. */
function tokens(line: string, where: () => string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '#') {
      break;
    } else if (c === '"' || c === "'") {
      // A quote closes only when followed by whitespace or the end of the line (STAR's rule).
      let j = i + 1;
      while (j < line.length && !(line[j] === c && (j + 1 === line.length || /\s/.test(line[j + 1])))) j++;
      if (j >= line.length) throw new FerryError(`unclosed quote in STAR file ${where()}`);
      out.push(line.slice(i + 1, j));
      i = j + 1;
    } else {
      let j = i;
      while (j < line.length && !/\s/.test(line[j])) j++;
      out.push(line.slice(i, j));
      i = j;
    }
  }
  return out;
}

export function parseStar(text: string, name = 'STAR file'): StarBlock[] {
  const blocks: StarBlock[] = [];
  let block: StarBlock | undefined;
  // Inside a loop: reading labels until the first row, then rows until a blank line or new block.
  let loop: 'labels' | 'rows' | undefined;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const where = () => `${name}, line ${n + 1}`;
    const t = tokens(lines[n], where);
    if (t.length === 0) {
      if (loop === 'rows') loop = undefined;
      continue;
    }
    const first = t[0];
    if (first.startsWith('data_')) {
      block = { name: first.slice(5), values: new Map() };
      blocks.push(block);
      loop = undefined;
      continue;
    }
    if (!block) throw new FerryError(`${where()}: "${first}" comes before any data_ block`);
    if (first === 'loop_') {
      if (block.table) throw new FerryError(`${where()}: a second loop_ in block data_${block.name}`);
      block.table = { columns: [], rows: [] };
      loop = 'labels';
      continue;
    }
    if (first.startsWith('_')) {
      if (loop === 'labels') {
        block.table!.columns.push(first.slice(1));
      } else {
        if (t.length < 2) throw new FerryError(`${where()}: ${first} has no value`);
        block.values.set(first.slice(1), t[1]);
        loop = undefined;
      }
      continue;
    }
    if (!loop) throw new FerryError(`${where()}: a value line outside any loop_ ("${lines[n].trim().slice(0, 60)}")`);
    loop = 'rows';
    const table = block.table!;
    if (t.length !== table.columns.length) {
      throw new FerryError(`${where()}: ${t.length} values, the loop has ${table.columns.length} columns`);
    }
    table.rows.push(t);
  }
  return blocks;
}

export function findBlock(blocks: StarBlock[], name: string): StarBlock | undefined {
  return blocks.find((b) => b.name === name);
}

/** The rows of a block's table as objects keyed by label (an empty list when the block has none). */
export function tableRecords(block: StarBlock | undefined): Record<string, string>[] {
  const table = block?.table;
  if (!table) return [];
  return table.rows.map((r) => Object.fromEntries(table.columns.map((c, i) => [c, r[i]])));
}
