// Large writes to a local file that bypass the page cache (O_DIRECT). Copying a ~200 MB shard
// into the cache costs a core ~0.15 s when the cache's pages are warm and ~0.6 s on a VM whose
// free pages went back to the hypervisor (each one faults on first touch); the cached copy then
// only pushes out what the machine is using, since the writer never reads it back.
// O_DIRECT wants the buffer's address, the file offset and the length in whole blocks. JS cannot
// see an address, so such buffers come from `alignedBytes`; a write the kernel refuses (EINVAL:
// a buffer not aligned after all, or a filesystem without direct I/O: some FUSE mounts, tmpfs
// before Linux 6.6) reports `false` and the caller writes through the cache instead.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';

// The one part of the WebAssembly global used here (@types/node leaves it to the DOM library).
declare const WebAssembly: { Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer } };

/** Alignment and length unit of a direct write: the largest logical block size in use. */
const BLOCK = 4096;
const WASM_PAGE = 65536;
/** WebAssembly memories stop at 4 GiB; larger buffers are ordinary (and written through the cache). */
const WASM_MAX_PAGES = 65536;

/**
 * `size` zeroed bytes starting on a page boundary. A WebAssembly memory is mapped by itself, so it
 * starts on a page; an ordinary ArrayBuffer of this size comes from malloc, 16 bytes past one.
 */
export function alignedBytes(size: number): Uint8Array {
  const pages = Math.ceil(size / WASM_PAGE);
  if (pages > 0 && pages <= WASM_MAX_PAGES) {
    try {
      return new Uint8Array(new WebAssembly.Memory({ initial: pages }).buffer, 0, size);
    } catch {
      // Address space refused (a ulimit -v on a cluster node): an ordinary buffer still works.
    }
  }
  return new Uint8Array(size);
}

/**
 * Writes `body` as the whole of the file at `path` (created or truncated) without the page cache,
 * and fsyncs it. False, with nothing left open, when the kernel refuses direct I/O for this file or
 * this buffer; the file may then exist, truncated, for the caller to write again. `whileWriting`
 * runs on this thread while the kernel copies the bulk of the body (a checksum of it, say): the
 * write holds a pool thread but hardly a core.
 */
export async function writeFileDirect(path: string | Buffer, body: Uint8Array, whileWriting?: () => void): Promise<boolean> {
  if (body.byteOffset % BLOCK !== 0) return false;
  let fh: FileHandle;
  try {
    fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_DIRECT, 0o644);
  } catch (e) {
    if (isRefused(e)) return false;
    throw e;
  }
  try {
    const whole = body.byteLength - (body.byteLength % BLOCK);
    const first = fh.write(body, 0, whole, 0);
    whileWriting?.();
    for (let at = (await first).bytesWritten; at < whole; ) at += (await fh.write(body, at, whole - at, at)).bytesWritten;
    if (whole < body.byteLength) {
      // The last partial block goes out padded with zeros, and the file is cut back to its size.
      const tail = alignedBytes(BLOCK);
      tail.set(body.subarray(whole));
      await fh.write(tail, 0, BLOCK, whole);
      await fh.truncate(body.byteLength);
    }
    await fh.sync();
    return true;
  } catch (e) {
    if (isRefused(e)) return false;
    throw e;
  } finally {
    await fh.close();
  }
}

function isRefused(e: unknown): boolean {
  return (e as NodeJS.ErrnoException)?.code === 'EINVAL';
}
