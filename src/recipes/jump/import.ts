// Continues a campaign started with the lab's old scripts: each old job file becomes a plate job
// in the ledger with its state and its log. Importing again changes nothing that Ferry has done
// since: only plates the run does not have yet get the old state.
import type { JobState } from '../../ledger/schema.ts';
import type { Plate } from './discover.ts';
import type { OldJob } from './joblist.ts';

export const carriedOver = {
  /** The plate an old job file names, with its path in the gallery from the dataset folder on. */
  plate(j: OldJob, dataset: string): Plate {
    const parts = j.plateDir.split('/');
    const i = parts.indexOf(dataset);
    const galleryPath = i >= 0 ? parts.slice(i).join('/') : `${j.source}/${j.batch}/${j.plate}`;
    return { source: j.source, batch: j.batch, plate: j.plate, dir: j.plateDir, galleryPath };
  },

  /** An old `ongoing` means a transfer the cluster cut off: it is queued again, not left hanging. */
  state(j: OldJob): { state: JobState; lastError?: string; events: { at?: number; type: string; message: string }[] } {
    const note =
      j.status === 'ongoing'
        ? `imported from ${j.file}: was 'ongoing' (its transfer was cut off), queued again`
        : j.status === 'success'
          ? `imported from ${j.file} as success (uploaded by the old scripts, not verified by Ferry)`
          : `imported from ${j.file} as ${j.status}`;
    const state: JobState = j.status === 'ongoing' ? 'todo' : j.status;
    const lastLine = j.log.at(-1)?.message;
    return {
      state,
      lastError: state === 'error' ? (lastLine ?? 'error in the old job list (no log line)') : undefined,
      events: [...j.log.map((l) => ({ at: l.at, type: 'imported-log', message: l.message })), { type: 'imported', message: note }],
    };
  },
};
