// Voxel data types, their sizes, and the typed arrays that hold them in memory. Arrays hold
// voxels [x, y, z, c] with x fastest, the order of precomputed chunks and of image rows, so raw
// bytes are a plain view on little-endian hosts (every platform Node runs on in practice).
import { FerryError } from '../errors.ts';

export const DATA_TYPES = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'uint64', 'float32'] as const;
export type DataType = (typeof DATA_TYPES)[number];

export type VoxelArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | BigUint64Array
  | Float32Array;

const BYTES: Record<DataType, number> = {
  uint8: 1,
  int8: 1,
  uint16: 2,
  int16: 2,
  uint32: 4,
  int32: 4,
  uint64: 8,
  float32: 4,
};

export function bytesPerVoxel(t: DataType): number {
  return BYTES[t];
}

export function allocateVoxels(t: DataType, n: number): VoxelArray {
  switch (t) {
    case 'uint8':
      return new Uint8Array(n);
    case 'int8':
      return new Int8Array(n);
    case 'uint16':
      return new Uint16Array(n);
    case 'int16':
      return new Int16Array(n);
    case 'uint32':
      return new Uint32Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'uint64':
      return new BigUint64Array(n);
    case 'float32':
      return new Float32Array(n);
  }
}

/** Typed view over little-endian voxel bytes; copies only when the bytes are not aligned. */
export function voxelsFromBytes(t: DataType, bytes: Uint8Array): VoxelArray {
  const size = BYTES[t];
  if (bytes.byteLength % size !== 0) {
    throw new FerryError(`${bytes.byteLength} bytes is not a whole number of ${t} voxels`);
  }
  const aligned = bytes.byteOffset % size === 0 ? bytes : new Uint8Array(bytes);
  const n = aligned.byteLength / size;
  switch (t) {
    case 'uint8':
      return new Uint8Array(aligned.buffer, aligned.byteOffset, n);
    case 'int8':
      return new Int8Array(aligned.buffer, aligned.byteOffset, n);
    case 'uint16':
      return new Uint16Array(aligned.buffer, aligned.byteOffset, n);
    case 'int16':
      return new Int16Array(aligned.buffer, aligned.byteOffset, n);
    case 'uint32':
      return new Uint32Array(aligned.buffer, aligned.byteOffset, n);
    case 'int32':
      return new Int32Array(aligned.buffer, aligned.byteOffset, n);
    case 'uint64':
      return new BigUint64Array(aligned.buffer, aligned.byteOffset, n);
    case 'float32':
      return new Float32Array(aligned.buffer, aligned.byteOffset, n);
  }
}

export function bytesOfVoxels(a: VoxelArray): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** The data type an array holds, so callers can pass arrays without repeating the type. */
export function dataTypeOf(a: VoxelArray): DataType {
  if (a instanceof Uint8Array) return 'uint8';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint16Array) return 'uint16';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Uint32Array) return 'uint32';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof BigUint64Array) return 'uint64';
  return 'float32';
}

/**
 * Whether at least `fraction` of the voxels are not zero. Stops as soon as enough are found, so a
 * chunk with data costs a scan of its first few percent, not of all of it.
 */
export function hasNonzeroFraction(a: VoxelArray, fraction: number): boolean {
  const need = fraction * a.length;
  if (need <= 0) return true;
  let n = 0;
  if (a instanceof BigUint64Array) {
    for (let i = 0; i < a.length; i++) if (a[i] !== 0n && ++n >= need) return true;
  } else {
    for (let i = 0; i < a.length; i++) if (a[i] !== 0 && ++n >= need) return true;
  }
  return false;
}
