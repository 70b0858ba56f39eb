// Deterministic pseudo-random numbers in [0, 1) for test data and benchmarks: the same seed gives
// the same image in every run.
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
