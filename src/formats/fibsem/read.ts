// Opening `.dat` files through a Store (a folder, S3, GCS): the header first (one ranged read of
// 1024 bytes), then only the pixel bytes asked for. Every way a file can be unusable becomes a
// FerryError that names the file as the caller named it, and the reason.
import { FerryError } from '../../errors.ts';
import type { StoreFile } from '../../storage/location.ts';
import type { RangeSource, Store } from '../../storage/store.ts';
import { DAT_HEADER_BYTES, expectedDatBytes, parseDatHeader } from './header.ts';
import type { DatHeader } from './header.ts';

/** What reading a `.dat` needs of a Store. */
export type DatStore = Pick<Store, 'stat' | 'list' | 'openRange'>;

export interface OpenDat {
  /** The file as messages name it (the path or URL it was given as). */
  name: string;
  header: DatHeader;
  /** Size in bytes; may exceed the expected size (trailing bytes are ignored, as the readers do). */
  size: number;
  /** The file's bytes, read a range at a time. */
  bytes: RangeSource;
  close(): Promise<void>;
}

/** Reads and validates the header and the file size; the caller closes what it gets. */
export async function openDat(file: StoreFile<DatStore>): Promise<OpenDat> {
  const { store, key, name } = file;
  const info = await store.stat(key).catch((e: unknown) => {
    throw cannotOpen(name, e);
  });
  if (!info) throw await missing(file);
  const size = info.size;
  if (size === 0) {
    throw new FerryError(`${name}: empty .dat file (0 bytes)`, {
      hint: 'the transfer probably failed; fetch the file again from the microscope',
      code: 'DatEmpty',
      exitCode: 1,
    });
  }
  const bytes = await store.openRange(key, size).catch((e: unknown) => {
    throw cannotOpen(name, e);
  });
  try {
    const head = Buffer.alloc(Math.min(size, DAT_HEADER_BYTES));
    await readFully({ name, bytes }, head, 0);
    const header = parseDatHeader(head, name);
    const expected = expectedDatBytes(header);
    if (size < expected) {
      throw new FerryError(`${name}: truncated .dat file: header says ${expected} bytes, file has ${size}`, {
        hint: 'the transfer was cut short; fetch the file again from the microscope',
        code: 'DatTruncated',
        exitCode: 1,
      });
    }
    return { name, header, size, bytes, close: async () => bytes.close?.() };
  } catch (e) {
    await bytes.close?.();
    throw e;
  }
}

/** Header of one file, validated against the file's size. */
export async function readDatHeader(file: StoreFile<DatStore>): Promise<DatHeader> {
  const dat = await openDat(file);
  await dat.close();
  return dat.header;
}

/** Fills `into` from byte `position`; fails if the file ends first (it shrank, or is still being written). */
export async function readFully(dat: Pick<OpenDat, 'name' | 'bytes'>, into: Buffer, position: number): Promise<void> {
  const got = await dat.bytes.readRange({ start: position, end: position + into.length }, undefined, into);
  if (got.length < into.length) {
    throw new FerryError(`${dat.name}: file ended at byte ${position + got.length} while reading; it is being written or was truncated`, {
      hint: 'wait for the transfer to finish, or fetch the file again',
      code: 'DatTruncated',
      exitCode: 1,
    });
  }
  // A driver may hand back bytes of its own rather than fill `into`.
  if (got.buffer !== into.buffer || got.byteOffset !== into.byteOffset) into.set(got);
}

/** Why there is no file at the key: a folder of that name, or nothing. */
async function missing(file: StoreFile<DatStore>): Promise<FerryError> {
  for await (const _ of file.store.list(`${file.key}/`)) {
    return new FerryError(`${file.name}: not a regular file`, { hint: 'pass .dat files, not folders', code: 'DatNotFile', exitCode: 1 });
  }
  return new FerryError(`${file.name}: cannot open .dat file: no such file`, { hint: 'check the path', code: 'ENOENT', exitCode: 1 });
}

function cannotOpen(name: string, e: unknown): FerryError {
  const code = (e as { code?: string }).code;
  const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
  return new FerryError(`${name}: cannot open .dat file: ${reason}`, {
    hint: code === 'EACCES' ? 'check the file permissions for this user' : 'check the path',
    code: code ?? 'DatOpen',
    exitCode: 1,
    cause: e,
  });
}
