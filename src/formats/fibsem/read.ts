// Opening `.dat` files: the header first (1024 bytes), then only the pixel bytes asked for. Every
// way a file on disk can be unusable becomes a FerryError that names the file and the reason.
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { FerryError } from '../../errors.ts';
import { DAT_HEADER_BYTES, expectedDatBytes, parseDatHeader } from './header.ts';
import type { DatHeader } from './header.ts';

export interface OpenDat {
  path: string;
  header: DatHeader;
  /** Size on disk; may exceed the expected size (trailing bytes are ignored, as the readers do). */
  size: number;
  handle: FileHandle;
}

/** Reads and validates the header and the file size; the caller closes `handle`. */
export async function openDat(path: string): Promise<OpenDat> {
  const handle = await openForRead(path);
  try {
    const st = await handle.stat();
    if (!st.isFile()) {
      throw new FerryError(`${path}: not a regular file`, { hint: 'pass .dat files, not folders', code: 'DatNotFile', exitCode: 1 });
    }
    const size = st.size;
    if (size === 0) {
      throw new FerryError(`${path}: empty .dat file (0 bytes)`, {
        hint: 'the transfer probably failed; fetch the file again from the microscope',
        code: 'DatEmpty',
        exitCode: 1,
      });
    }
    const head = Buffer.alloc(Math.min(size, DAT_HEADER_BYTES));
    await readFully(handle, head, 0, path);
    const header = parseDatHeader(head, path);
    const expected = expectedDatBytes(header);
    if (size < expected) {
      throw new FerryError(`${path}: truncated .dat file: header says ${expected} bytes, file has ${size}`, {
        hint: 'the transfer was cut short; fetch the file again from the microscope',
        code: 'DatTruncated',
        exitCode: 1,
      });
    }
    return { path, header, size, handle };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** Header of one file, validated against the file's size. */
export async function readDatHeader(path: string): Promise<DatHeader> {
  const dat = await openDat(path);
  await dat.handle.close();
  return dat.header;
}

/** Fills `buf` from `position`, looping over short reads; fails if the file ends first (it shrank). */
export async function readFully(handle: FileHandle, buf: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await handle.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) {
      throw new FerryError(`${path}: file ended at byte ${position + done} while reading; it is being written or was truncated`, {
        hint: 'wait for the transfer to finish, or fetch the file again',
        code: 'DatTruncated',
        exitCode: 1,
      });
    }
    done += bytesRead;
  }
}

async function openForRead(path: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(code ?? e);
    throw new FerryError(`${path}: cannot open .dat file: ${reason}`, {
      hint: code === 'EACCES' ? 'check the file permissions for this user' : 'check the path',
      code: code ?? 'DatOpen',
      exitCode: 1,
      cause: e,
    });
  }
}
