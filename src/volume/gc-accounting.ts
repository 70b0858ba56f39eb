// An ingest allocates buffers outside the JS heap by the gigabyte (decoded sections, compressed
// chunks), while its JS heap stays near 15 MiB. V8's historic rule counts every external byte
// allocated since the last full collection against the old generation's limit, which for so
// small a heap is a few MiB: a task ran ~100 full collections per GiB of sections, ~2 CPU-s of
// marking, sweeping and freeing on a 2-core machine (7% of the whole ingest). V8's newer
// accounting (external memory in the global limit, with its own growth) runs ~17. The flag is
// process-wide and read at every limit check, so turning it on when the first task starts takes
// effect at once. It belongs with the process's start-up flags; it is here because ingest is what
// needs it. (The flag exists in the V8 of every Node that runs Ferry: 22.18+ and 24.)
import { setFlagsFromString } from 'node:v8';

let done = false;

export function accountExternalMemoryGlobally(): void {
  if (done) return;
  done = true;
  setFlagsFromString('--external-memory-accounted-in-global-limit');
}
