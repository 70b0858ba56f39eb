// Builds `.dat` files for tests and benchmarks: a header with the geometry fields every version
// shares (magic, version, channels, 8-bit flag, resolution, FileLength) and interleaved pixel data.
// Callers that need other fields write them into the returned buffer at the offsets they pin.
import { DAT_HEADER_BYTES, DAT_MAGIC } from '../formats/fibsem/header.ts';

export interface SyntheticDat {
  version?: number;
  width: number;
  height: number;
  channels?: number;
  eightBit?: boolean;
  /** Sample of channel c at pixel index i (row-major); default 0. */
  sample?: (i: number, c: number) => number;
  /** Overrides the FileLength written in the header. */
  fileLength?: number;
}

export function syntheticDat(o: SyntheticDat): Buffer {
  const channels = o.channels ?? 2;
  const bytes = o.eightBit ? 1 : 2;
  const pixels = o.width * o.height;
  const size = DAT_HEADER_BYTES + pixels * channels * bytes;
  const buf = Buffer.alloc(size);
  buf.writeUInt32BE(DAT_MAGIC, 0);
  buf.writeUInt16BE(o.version ?? 9, 4);
  buf.writeUInt16BE(1, 6);
  buf.writeUInt8(channels, 32);
  buf.writeUInt8(o.eightBit ? 1 : 0, 33);
  buf.writeUInt32BE(o.width, 100);
  buf.writeUInt32BE(o.height, 104);
  buf.writeBigInt64BE(BigInt(o.fileLength ?? size), 1000);
  if (o.sample) {
    let at = DAT_HEADER_BYTES;
    for (let i = 0; i < pixels; i++) {
      for (let c = 0; c < channels; c++) {
        if (o.eightBit) buf[at++] = o.sample(i, c);
        else {
          buf.writeInt16BE(o.sample(i, c), at);
          at += 2;
        }
      }
    }
  }
  return buf;
}
