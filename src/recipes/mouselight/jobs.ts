// A sample's upload plan as ledger jobs: one `transfer.sync` job per operation, in two runs named
// after the sample, one for what runs here and one for what may go to cluster workers, so that a
// Slurm / LSF array given `--run <sample>-cluster` never picks up the local part. Keys are stable,
// so planning the same sample twice adds nothing.
import type { JobSpec } from '../../ledger/engine.ts';
import type { Ledger, Run } from '../../ledger/ledger.ts';
import { definedOptions } from '../../storage/spec.ts';
import type { StoreOptions } from '../../storage/spec.ts';
import { TRANSFER_JOB } from '../../transfer/job.ts';
import type { TransferJobParams } from '../../transfer/job.ts';
import type { UploadOp, UploadPlan } from './plan.ts';

export function runName(date: string, cluster: boolean): string {
  return `mouselight-${date}${cluster ? '-cluster' : ''}`;
}

export function jobSpec(op: UploadOp, store: StoreOptions): JobSpec {
  const params: TransferJobParams = { src: op.src, dst: op.dst, store: definedOptions(store) };
  if (op.files) params.files = op.files;
  return { kind: TRANSFER_JOB, key: op.key, params };
}

export interface EnqueuedUpload {
  local?: Run;
  cluster?: Run;
  added: number;
}

export async function enqueueUpload(ledger: Ledger, plan: UploadPlan, store: StoreOptions): Promise<EnqueuedUpload> {
  const out: EnqueuedUpload = { added: 0 };
  for (const cluster of [false, true]) {
    const ops = plan.ops.filter((o) => o.cluster === cluster);
    if (ops.length === 0) continue;
    const run = await ledger.createRun({ name: runName(plan.date, cluster), labels: { recipe: 'mouselight', sample: plan.date } });
    out.added += await ledger.addJobs(run.id, ops.map((o) => jobSpec(o, store)));
    if (cluster) out.cluster = run;
    else out.local = run;
  }
  return out;
}
