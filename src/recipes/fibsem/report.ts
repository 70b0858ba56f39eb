// The check_tabs table, line for line as FlyEM operators know it, plus the first / last / count
// lines that replace list_first_and_last_dats.sh and the e-mail to the microscope operator.
import type { Comparison, TabReport } from '../../inventory/tab-check.ts';

export function formatTabReport(tab: string, r: TabReport): string[] {
  const c = r.counts;
  const lines = [
    '====================================================',
    `Tab: ${tab}`,
    '',
    'InLens png  Transferred dat  Archived dat  Scope dat       Logs',
    '----------  ---------------  ------------  ---------  ---------',
    `${pad(c.inLensPng, 10)} ${pad(c.transferredDat, 16)} ${pad(c.archivedDat, 13)} ${pad(c.scopeDat, 10)} ${pad(c.logs, 10)}`,
    '',
    `${pad(r.missingInLensPng.length, 10)} missing InLens png: ${pyList(r.missingInLensPng)}`,
    `${pad(r.missingDat.length, 10)} missing dat:        ${pyList(r.missingDat)}`,
    `${pad(r.unarchivedDat.length, 10)} unarchived dat:     ${pyList(r.unarchivedDat)}`,
    `${pad(r.nonStandardDat.length, 10)} non-standard dat:   ${pyList(r.nonStandardDat)}`,
    '',
    `first dat: ${compared(r.firstDat)}`,
    `last dat:  ${compared(r.lastDat)}`,
    `dat count: ${compared(r.datCount)}`,
    '',
  ];
  return lines;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width);
}

// Python's repr of a list of str, as check_tabs prints it.
function pyList(names: string[]): string {
  return `[${names.map((n) => `'${n}'`).join(', ')}]`;
}

function compared<T>(c: Comparison<T>): string {
  const actual = c.actual === undefined ? '(none)' : String(c.actual);
  if (c.ok === undefined) return `${actual}  (nothing expected)`;
  return c.ok ? `${actual}  (as expected)` : `${actual}  MISMATCH: expected ${String(c.expected)}`;
}
