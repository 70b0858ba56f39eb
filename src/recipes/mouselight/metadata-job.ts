// The `mouselight.metadata` job kind: one date's metadata.json written to every key it belongs at,
// each read back: the file counts as published only when the bucket serves these bytes.
import { z } from 'zod';
import { FerryError } from '../../errors.ts';
import type { JobSpec } from '../../ledger/engine.ts';
import type { Handler } from '../../runtime/registry.ts';
import { openStore } from '../../storage/open.ts';
import type { StoreOptions } from '../../storage/spec.ts';

export const METADATA_JOB = 'mouselight.metadata';

const Params = z.strictObject({
  bucket: z.string().min(1),
  store: z.record(z.string(), z.unknown()).optional(),
  keys: z.array(z.string().min(1)).min(1),
  /** The exact bytes, as text: metadata.json is UTF-8 JSON. */
  body: z.string(),
  neurons: z.number().int().nonnegative(),
});
type MetadataParams = z.infer<typeof Params>;

export interface MetadataResult {
  bucket: string;
  keys: string[];
  neurons: number;
}

export function metadataJob(bucket: string, store: StoreOptions, location: string, date: string, keys: string[], body: Buffer): JobSpec {
  const stored = Object.fromEntries(Object.entries(store).filter(([, v]) => v !== undefined));
  const params: MetadataParams = { bucket, store: stored, keys, body: body.toString('utf8'), neurons: Object.keys(JSON.parse(body.toString('utf8')).neurons).length };
  return { kind: METADATA_JOB, key: `${location}/${date}`, params };
}

export const metadataHandler: Handler<MetadataParams> = {
  validate(p) {
    const r = Params.safeParse(p);
    if (!r.success) throw new FerryError(`${METADATA_JOB} parameters: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, { kind: 'config' });
    return r.data;
  },
  async run(_ctx, p) {
    const bucket = await openStore(p.bucket, p.store as StoreOptions);
    const body = Buffer.from(p.body, 'utf8');
    try {
      for (const key of p.keys) {
        // No content type, as update_aws_neurons.py uploads it (S3 then serves binary/octet-stream).
        await bucket.write(key, body);
        if (!(await bucket.readBytes(key)).equals(body)) throw new FerryError(`${bucket.url}${key} does not hold what was written`, { kind: 'item' });
      }
      return { bucket: bucket.url, keys: p.keys, neurons: p.neurons } satisfies MetadataResult;
    } finally {
      await bucket.close();
    }
  },
};
