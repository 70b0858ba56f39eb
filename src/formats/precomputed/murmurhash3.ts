// MurmurHash3_x86_128 (Austin Appleby's SMHasher), the hash Neuroglancer's sharded format may
// use to spread chunk ids over shards. Written over any bytes so it can be checked against the
// published SMHasher verification value, not only the 8-byte case sharding needs.

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** The four 32-bit words h1..h4 of the 128-bit hash (unsigned). */
export function murmurhash3X86_128(data: Uint8Array, seed = 0): [number, number, number, number] {
  const len = data.length;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let h1 = seed | 0;
  let h2 = seed | 0;
  let h3 = seed | 0;
  let h4 = seed | 0;
  const blocks = len & ~15;
  for (let i = 0; i < blocks; i += 16) {
    let k1 = view.getUint32(i, true);
    let k2 = view.getUint32(i + 4, true);
    let k3 = view.getUint32(i + 8, true);
    let k4 = view.getUint32(i + 12, true);

    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0;

    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0;

    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0;

    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0;
  }

  // Tail: up to 15 bytes, gathered little-endian into k1..k4 as the reference does.
  const t = blocks;
  const rest = len & 15;
  let k1 = 0;
  let k2 = 0;
  let k3 = 0;
  let k4 = 0;
  for (let i = rest - 1; i >= 0; i--) {
    const b = data[t + i];
    const shift = (i & 3) * 8;
    if (i >= 12) k4 |= b << shift;
    else if (i >= 8) k3 |= b << shift;
    else if (i >= 4) k2 |= b << shift;
    else k1 |= b << shift;
  }
  if (rest > 12) {
    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
  }
  if (rest > 8) {
    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
  }
  if (rest > 4) {
    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
  }
  if (rest > 0) {
    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
  }

  h1 ^= len;
  h2 ^= len;
  h3 ^= len;
  h4 ^= len;
  h1 = (h1 + h2) | 0;
  h1 = (h1 + h3) | 0;
  h1 = (h1 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h3 = fmix(h3);
  h4 = fmix(h4);
  h1 = (h1 + h2) | 0;
  h1 = (h1 + h3) | 0;
  h1 = (h1 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

const scratch = new DataView(new ArrayBuffer(8));
const scratchBytes = new Uint8Array(scratch.buffer);

/** The sharded format's hash of a chunk id: the low 64 bits (h1 | h2 << 32) over its 8 LE bytes, seed 0. */
export function murmurhash3Uint64(id: bigint): bigint {
  scratch.setBigUint64(0, id, true);
  const [h1, h2] = murmurhash3X86_128(scratchBytes, 0);
  return BigInt(h1) | (BigInt(h2) << 32n);
}
