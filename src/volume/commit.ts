// Makes a dataset visible only when it is whole. Each finished task leaves a small record (what it
// wrote, which chunks it skipped as empty) under a folder named for the planned info; the task
// that finds every record present writes `info`, last. Two tasks finishing together may both
// write it, with the same bytes. A plan with other settings gets another folder, so its records
// never count toward this one.
import { createHash } from 'node:crypto';
import { serializeInfo } from '../formats/precomputed/info.ts';
import type { Info } from '../formats/precomputed/info.ts';
import { parseInfoBytes, checkSameInfo } from '../formats/precomputed/info.ts';
import { writeInfo } from '../formats/precomputed/writer.ts';
import type { Store } from '../storage/store.ts';

/** Folder of the completion records, beside the scales; Neuroglancer never looks there. */
export const RECORDS_FOLDER = '.ferry-ingest';

export function planId(info: Info): string {
  return createHash('sha256').update(serializeInfo(info)).digest('hex').slice(0, 16);
}

export interface TaskRecord {
  task: string;
  written: number;
  bytes: number;
  /** Chunk names left out for being below the non-zero threshold (read as zeros). */
  skipped: string[];
}

/** Throws when the destination already holds a different info than the one planned. */
export async function checkDestinationInfo(store: Store, planned: Info): Promise<'absent' | 'same'> {
  const bytes = await store.readIfExists('info');
  if (!bytes) return 'absent';
  checkSameInfo(parseInfoBytes(bytes, `${store.url}info`), planned, store.url);
  return 'same';
}

/** Records the task as done; writes `info` when every task of the plan has its record. */
export async function recordTaskAndCommit(store: Store, info: Info, taskCount: number, record: TaskRecord): Promise<{ committed: boolean; done: number }> {
  const folder = `${RECORDS_FOLDER}/${planId(info)}/`;
  await store.write(`${folder}${record.task}.json`, Buffer.from(JSON.stringify(record) + '\n'), { contentType: 'application/json' });
  let done = 0;
  for await (const o of store.list(folder)) if (o.key.endsWith('.json')) done++;
  if (done < taskCount) return { committed: false, done };
  await writeInfo(store, info);
  return { committed: true, done };
}

/** The records of every finished task of the plan (for reports and tests). */
export async function readTaskRecords(store: Store, info: Info): Promise<TaskRecord[]> {
  const out: TaskRecord[] = [];
  for await (const o of store.list(`${RECORDS_FOLDER}/${planId(info)}/`)) {
    if (o.key.endsWith('.json')) out.push(JSON.parse((await store.readBytes(o.key)).toString('utf8')) as TaskRecord);
  }
  return out;
}
