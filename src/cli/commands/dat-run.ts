// The actions of `ferry dat info | to-png` (see dat.ts). Each file succeeds or fails on its own;
// one bad tile among thousands does not stop the others.
import type { Command } from 'commander';
import { FerryError, errorMessage, exitCodeOfOutcome } from '../../errors.ts';
import { convertDatToInLensPng } from '../../formats/fibsem/convert.ts';
import { MODE_NAMES } from '../../formats/fibsem/header.ts';
import type { DatHeader } from '../../formats/fibsem/header.ts';
import { readDatHeader } from '../../formats/fibsem/read.ts';
import { FolderStores, absoluteLocation, joinLocation, splitLocation } from '../../storage/location.ts';
import { Output } from '../output.ts';

export async function datInfo(files: string[], cmd: Command): Promise<void> {
  const out = new Output({ json: cmd.optsWithGlobals().json });
  const stores = new FolderStores();
  let failed = 0;
  try {
    for (const [i, file] of files.entries()) {
      try {
        const header = await readDatHeader(await stores.file(file));
        out.event('dat', { path: file, header });
        if (i > 0) out.line();
        out.line(file);
        out.table([['field', 'value'], ...headerRows(header)]);
      } catch (e) {
        failed++;
        report(out, file, e);
      }
    }
  } finally {
    await stores.close();
  }
  process.exitCode = exitCodeOfOutcome({ failed });
}

export async function datToPng(files: string[], opts: { out: string; logs?: string; jobs: string }, cmd: Command): Promise<void> {
  const out = new Output({ json: cmd.optsWithGlobals().json });
  const jobs = Number(opts.jobs);
  if (!Number.isInteger(jobs) || jobs < 1) {
    throw new FerryError(`--jobs must be a whole number of at least 1, got "${opts.jobs}"`, { kind: 'usage' });
  }
  const pngDir = absoluteLocation(opts.out);
  const logDir = opts.logs ? absoluteLocation(opts.logs) : joinLocation(splitLocation(pngDir).folder, 'logs');
  const stores = new FolderStores();
  let done = 0;
  let failed = 0;
  const stop = out.startProgress(() => ({ unit: 'files', done: done + failed, total: files.length, failed }));
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++];
      try {
        const r = await convertDatToInLensPng(await stores.file(file), await stores.folder(pngDir), await stores.folder(logDir));
        done++;
        out.event('converted', { path: file, png: r.png, log: r.log, ...r.stats });
        out.line(`${file} -> ${r.png}`);
      } catch (e) {
        failed++;
        report(out, file, e);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker));
  } finally {
    stop();
    await stores.close();
  }
  out.event('summary', { converted: done, failed });
  out.line(`${done} converted, ${failed} failed`);
  process.exitCode = exitCodeOfOutcome({ failed });
}

function headerRows(h: DatHeader): (string | number)[][] {
  const rows: (string | number)[][] = [];
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    if (k === 'Scaling') (v as number[][]).forEach((row, c) => rows.push([`Scaling[${c}]`, row.join(', ')]));
    else if (k === 'Mode') rows.push([k, `${v} (${MODE_NAMES[v as number] ?? 'unknown'})`]);
    else rows.push([k, typeof v === 'number' ? String(v) : v]);
  }
  return rows;
}

// Bugs keep their stack; user-level problems (bad file, unwritable folder) are one line.
function report(out: Output, file: string, e: unknown): void {
  if (!(e instanceof FerryError)) throw e;
  out.event('error', { path: file, code: e.code, message: e.message, hint: e.hint });
  out.warn(errorMessage(e));
}
