// A processing job's status as SynchWeb shows it (api/src/Page/EM/ProcessingJobs.php at e80730cf),
// from the job's latest program run: none yet -> submitted; registered, not started, no status ->
// queued; started, no status -> running; status 0 -> failure; 1 -> success.

export type ProcessingStatus = 'submitted' | 'queued' | 'running' | 'failure' | 'success';

/** Statuses that block a new start on the same data collection (SynchWeb's data-collection.vue). */
export const ACTIVE_STATUSES: readonly ProcessingStatus[] = ['submitted', 'queued', 'running'];

export function processingStatus(program: { status: number | null; startTime: Date | null } | null): ProcessingStatus {
  if (!program) return 'submitted';
  // SynchWeb shows nothing for an ended run without a start time; Ferry's own writes never leave
  // one (finishing sets the start time too), and for runs written by others the status decides.
  if (program.status === 1) return 'success';
  if (program.status === 0) return 'failure';
  return program.startTime ? 'running' : 'queued';
}

export function isActive(status: ProcessingStatus): boolean {
  return ACTIVE_STATUSES.includes(status);
}
