// The contract of a row of the fault matrix (bench/faults.ts runs every row). A row is one module
// bench/faults/rN-<name>.ts exporting `row`; it runs its cases and says, for each, what was done,
// what was checked, whether it passed, and what was lost (the matrix's promise: nothing).
export interface FaultCase {
  /** What was done: "3,000 mutated .dat headers through dat info's reader". */
  done: string;
  /** What was checked: "a FerryError or a header; no internal error, no hang". */
  checked: string;
  pass: boolean;
  /** 'nothing', or what was lost, written outside a destination or left half-written. */
  lost: string;
  /** Why it failed (first few offenders), printed under the table. */
  detail?: string[];
}

export interface FaultRow {
  /** R1, R2, ...: the row's name in the matrix. */
  id: string;
  title: string;
  run(): Promise<FaultCase[]>;
}
