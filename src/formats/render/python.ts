// Python's arithmetic, where the FlyEM pipeline's tile specs depend on it (EM_recon_pipeline
// dat_to_render.py runs on CPython): Ferry must round and subtract times the way it did, or a stack
// it imports would differ from the one the pipeline made.

/** Python 3 `round(x)`: halves go to the even neighbour (round(2.5) == 2, round(3.5) == 4). */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const rest = x - floor;
  if (rest > 0.5) return floor + 1;
  if (rest < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * `timedelta.seconds` of `later - earlier` (both in whole seconds): the seconds part only, 0 to
 * 86399, with whole days dropped (Python normalises a timedelta to days + seconds, the seconds never
 * negative). So two tiles 24 h apart are 0 s apart, and 1 day 10 s apart are 10 s apart.
 */
export function timedeltaSeconds(later: number, earlier: number): number {
  const total = later - earlier;
  return total - Math.floor(total / 86_400) * 86_400;
}

/** `%.10f`, for the integer and integer-valued numbers the planner formats (no ties can arise). */
export function fixed10(x: number): string {
  return x.toFixed(10);
}
