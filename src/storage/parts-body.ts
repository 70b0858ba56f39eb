// A body held in memory as one or more pieces, as a RangeSource: a driver that sends large bodies
// in parts (multipart S3, resumable GCS) gets views of the pieces where a part lies within one,
// and copies only where a part spans two.
import type { ByteRange, RangeSource } from './store.ts';

export function partsBody(parts: Uint8Array[], size: number): RangeSource {
  const starts = new Float64Array(parts.length + 1);
  for (let i = 0; i < parts.length; i++) starts[i + 1] = starts[i] + parts[i].byteLength;
  if (starts[parts.length] !== size) throw new Error(`parts hold ${starts[parts.length]} bytes, not ${size}`);
  /** Index of the part holding byte `at`. */
  const partAt = (at: number) => {
    let lo = 0;
    let hi = parts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  };
  return {
    size,
    async readRange({ start, end }: ByteRange): Promise<Buffer> {
      end = Math.min(end, size);
      if (end <= start) return Buffer.alloc(0);
      let i = partAt(start);
      const first = parts[i];
      const from = start - starts[i];
      // A range inside one piece is a view of it: no copy.
      if (end <= starts[i + 1]) return Buffer.from(first.buffer, first.byteOffset + from, end - start);
      const out = Buffer.allocUnsafe(end - start);
      for (let at = start, o = 0; at < end; i++) {
        const p = parts[i];
        const off = at - starts[i];
        const n = Math.min(p.byteLength - off, end - at);
        out.set(p.subarray(off, off + n), o);
        o += n;
        at += n;
      }
      return out;
    },
  };
}

export function sizeOf(body: Buffer | RangeSource): number {
  return Buffer.isBuffer(body) ? body.length : body.size;
}

/** A body as a RangeSource: a buffer at or over a driver's multipart threshold goes in parts too. */
export function asRangeSource(body: Buffer | RangeSource): RangeSource {
  return Buffer.isBuffer(body) ? partsBody([body], body.length) : body;
}
