// A sample's upload operations as ledger jobs: one `transfer.sync` job per operation, in the two
// runs named after the sample (see recipe.ts). Keys are stable, so planning the same sample twice
// adds nothing.
import type { JobSpec } from '../../ledger/engine.ts';
import { definedOptions } from '../../storage/spec.ts';
import type { StoreOptions } from '../../storage/spec.ts';
import type { TransferJobParams } from '../../transfer/job.ts';
import { TRANSFER_JOB } from '../../transfer/kind.ts';
import type { UploadOp } from './plan.ts';

export function runName(date: string, cluster: boolean): string {
  return `mouselight-${date}${cluster ? '-cluster' : ''}`;
}

export function jobSpec(op: UploadOp, store: StoreOptions): JobSpec {
  const params: TransferJobParams = { src: op.src, dst: op.dst, store: definedOptions(store) };
  if (op.files) params.files = op.files;
  return { kind: TRANSFER_JOB, key: op.key, params };
}
