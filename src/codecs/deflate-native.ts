// The libdeflate addon (native/libdeflate: Debian's libdeflate behind Node-API), when it has been
// built on this machine. It is optional: npm's postinstall builds it where libdeflate-dev and a C
// toolchain are installed, and without it Ferry gzips with Node's zlib (codecs/gzip.ts).
import { loadAddon } from '../native-addon.ts';

/** What native/libdeflate/addon.c exports. */
export interface Libdeflate {
  /** The most bytes a gzip member of `n` bytes can take: what `out` must hold. */
  gzipBound(n: number): number;
  /** Writes one gzip member of `data` at the start of `out`, on libuv's thread pool; its size. */
  gzip(data: Uint8Array, level: number, out: Uint8Array): Promise<number>;
  /** The same on the calling thread. */
  gzipSync(data: Uint8Array, level: number, out: Uint8Array): number;
}

/** Where native/libdeflate/build.sh puts the addon. */
export const LIBDEFLATE_ADDON = new URL('../../native/libdeflate/build/Release/deflate_addon.node', import.meta.url);

/** The addon at `file`, or undefined when it is not built here (see loadAddon). */
export function loadLibdeflate(file: URL = LIBDEFLATE_ADDON): Libdeflate | undefined {
  return loadAddon<Libdeflate>(file, 'libdeflate', "gzip with Node's zlib");
}
