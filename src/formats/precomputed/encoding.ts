// Chunk encodings: raw (little-endian voxels, x fastest, no header), png (8- or 16-bit grey,
// width X and height Y*Z, 16-bit big-endian as PNG requires) and jpeg (8-bit grey), the image
// encodings through codecs/image.ts. Compression for transport (gzip as Content-Encoding, or a
// shard's data_encoding) is not an encoding: the caller applies it.
import type { Vec3 } from '../../arrays/box.ts';
import { allocateVoxels, bytesOfVoxels, bytesPerVoxel, voxelsFromBytes } from '../../arrays/voxels.ts';
import type { DataType, VoxelArray } from '../../arrays/voxels.ts';
import { decodeGrey, encodeGrey } from '../../codecs/image.ts';
import type { GreyDepth } from '../../codecs/image.ts';
import { FerryError } from '../../errors.ts';
import type { Encoding } from './info.ts';

export interface ChunkFormat {
  encoding: Encoding;
  dataType: DataType;
  numChannels: number;
  jpegQuality?: number;
  pngLevel?: number;
}

function unsupported(f: ChunkFormat): never {
  throw new FerryError(`Ferry cannot code ${f.encoding} chunks of ${f.numChannels}-channel ${f.dataType}`, {
    hint: 'Ferry writes and reads raw (any type), png (1-channel uint8/uint16) and jpeg (1-channel uint8)',
  });
}

function imageShape(f: ChunkFormat, shape: Vec3): { width: number; height: number } {
  if (f.numChannels !== 1) unsupported(f);
  if (f.encoding === 'png' && f.dataType !== 'uint8' && f.dataType !== 'uint16') unsupported(f);
  if (f.encoding === 'jpeg' && f.dataType !== 'uint8') unsupported(f);
  return { width: shape[0], height: shape[1] * shape[2] };
}

/** Encodes a chunk of `shape` voxels (times channels), held x fastest. */
export async function encodeChunk(f: ChunkFormat, shape: Vec3, voxels: VoxelArray): Promise<Buffer> {
  const n = shape[0] * shape[1] * shape[2] * f.numChannels;
  if (voxels.length !== n) {
    throw new FerryError(`chunk of shape ${shape.join('x')}x${f.numChannels} needs ${n} voxels, got ${voxels.length}`);
  }
  switch (f.encoding) {
    case 'raw':
      return bytesOfVoxels(voxels);
    case 'png': {
      const { width, height } = imageShape(f, shape);
      return encodeGrey(voxels as Uint8Array | Uint16Array, width, height, { format: 'png', level: f.pngLevel !== undefined && f.pngLevel >= 0 ? f.pngLevel : 6 });
    }
    case 'jpeg': {
      const { width, height } = imageShape(f, shape);
      return encodeGrey(voxels as Uint8Array, width, height, { format: 'jpeg', quality: f.jpegQuality ?? 85 });
    }
    default:
      unsupported(f);
  }
}

/** Decodes a chunk of `shape` voxels; the bytes must already be free of transport gzip. */
export async function decodeChunk(f: ChunkFormat, shape: Vec3, bytes: Uint8Array, where = 'chunk'): Promise<VoxelArray> {
  const n = shape[0] * shape[1] * shape[2] * f.numChannels;
  switch (f.encoding) {
    case 'raw': {
      if (bytes.byteLength !== n * bytesPerVoxel(f.dataType)) {
        throw new FerryError(`${where} has ${bytes.byteLength} bytes; a raw ${shape.join('x')}x${f.numChannels} ${f.dataType} chunk has ${n * bytesPerVoxel(f.dataType)}`, {
          hint: 'the chunk is truncated or was written with another shape or type; rewrite it',
        });
      }
      return voxelsFromBytes(f.dataType, bytes);
    }
    case 'png':
    case 'jpeg': {
      const { width, height } = imageShape(f, shape);
      let out;
      try {
        out = await decodeGrey(bytes, f.dataType as GreyDepth);
      } catch (e) {
        throw new FerryError(`${where} is not a readable ${f.encoding} image: ${(e as Error).message}`, { hint: 'rewrite the chunk' });
      }
      if (out.width !== width || out.height !== height || out.channels !== 1) {
        throw new FerryError(`${where} is a ${out.width}x${out.height}x${out.channels} image; expected ${width}x${height}x1`, {
          hint: 'the chunk was written with another shape; rewrite it',
        });
      }
      const voxels = allocateVoxels(f.dataType, n);
      (voxels as Uint8Array).set(voxelsFromBytes(f.dataType, out.data) as Uint8Array);
      return voxels;
    }
    default:
      unsupported(f);
  }
}
