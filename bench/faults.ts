// The fault matrix: every row (bench/faults/rN-*.ts, each exporting `row: FaultRow`) runs its
// cases and this prints one line per case: what was done, what was checked, pass or fail, and what
// was lost. `npm run bench -- faults`; FAULT_ROWS=R5,R6 runs only those rows. Exit 1 on any fail.
// To add a row: write bench/faults/r7-<name>.ts exporting `row` (see bench/faults/row.ts).
import { readdirSync } from 'node:fs';
import type { FaultCase, FaultRow } from './faults/row.ts';

const only = (process.env.FAULT_ROWS ?? '').split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
const files = readdirSync(new URL('./faults', import.meta.url)).filter((f) => /^r\d+-.*\.ts$/.test(f)).sort((a, b) => parseInt(a.slice(1)) - parseInt(b.slice(1)));
const results: { row: FaultRow; c: FaultCase }[] = [];
for (const f of files) {
  const { row } = (await import(`./faults/${f}`)) as { row: FaultRow };
  if (only.length && !only.includes(row.id.toUpperCase())) continue;
  process.stderr.write(`${row.id} ${row.title}...\n`);
  let cases: FaultCase[];
  try {
    cases = await row.run();
  } catch (e) {
    cases = [{ done: `row ${row.id} could not run`, checked: '-', pass: false, lost: 'unknown', detail: [String((e as Error)?.stack ?? e)] }];
  }
  for (const c of cases) results.push({ row, c });
}

const table = [['row', 'done', 'checked', 'result', 'lost'], ...results.map(({ row, c }) => [row.id, c.done, c.checked, c.pass ? 'pass' : 'FAIL', c.lost])];
const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
for (const r of table) console.log(r.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd());
for (const { row, c } of results.filter((r) => !r.c.pass || r.c.detail?.length)) {
  console.log(`\n${row.id}: ${c.done}`);
  for (const d of c.detail ?? []) console.log(`  ${d}`);
}
const failed = results.filter((r) => !r.c.pass).length;
console.log(`\n${results.length} case(s), ${failed} failed`);
process.exitCode = failed ? 1 : 0;
