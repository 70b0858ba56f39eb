// File names are bytes; keys are strings. A name that is not valid UTF-8 (Latin-1 from a Windows or
// Samba acquisition PC) becomes a key in which each byte that is not part of a UTF-8 character is
// the lone surrogate U+DC80..U+DCFF (Python's "surrogateescape"): no valid name can produce one, so
// the key names exactly one file and turns back into exactly its bytes. Such a key is not
// well-formed Unicode, which is how everyone else tells it: an object store refuses it by name,
// a message shows its bytes as \xE9.
import { FerryError } from '../errors.ts';

const ESCAPE_BASE = 0xdc00;

/** The key of a file name's bytes: UTF-8 where they are, one escape per byte where they are not. */
export function keyOfName(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const n = utf8Length(bytes, i);
    if (n === 0) {
      out += String.fromCharCode(ESCAPE_BASE + bytes[i]);
      i++;
      continue;
    }
    out += Buffer.from(bytes.buffer, bytes.byteOffset + i, n).toString('utf8');
    i += n;
  }
  return out;
}

/** The bytes a key stands for: the inverse of keyOfName. */
export function bytesOfKey(key: string): Buffer {
  if (key.isWellFormed()) return Buffer.from(key, 'utf8');
  const parts: Buffer[] = [];
  let run = '';
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    const isPair = c >= 0xd800 && c < 0xdc00 && i + 1 < key.length && (key.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    if (isPair) {
      run += key[i] + key[i + 1];
      i++;
    } else if (c >= ESCAPE_BASE + 0x80 && c <= ESCAPE_BASE + 0xff) {
      parts.push(Buffer.from(run, 'utf8'), Buffer.of(c - ESCAPE_BASE));
      run = '';
    } else if (c >= 0xd800 && c < 0xe000) {
      throw new RangeError(`key ${displayKey(key)} holds a lone surrogate that stands for no byte`);
    } else {
      run += key[i];
    }
  }
  parts.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(parts);
}

/** A key as a person reads it: bytes that are not UTF-8 shown as \xE9, the rest as they are. */
export function displayKey(key: string): string {
  if (key.isWellFormed()) return key;
  return key.replace(/[\udc80-\udcff]/g, (c) => `\\x${(c.charCodeAt(0) - ESCAPE_BASE).toString(16).toUpperCase().padStart(2, '0')}`);
}

/** Length of the valid UTF-8 character at bytes[i], or 0 when the byte there starts none. */
function utf8Length(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k] >= lo && b[i + k] <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  // Overlong forms, UTF-16 surrogates and code points above U+10FFFF are not valid UTF-8.
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c >= 0xe1 && c <= 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/**
 * `key` itself when an object store can hold it; a FerryError of kind 'item' naming it when it
 * holds bytes that are not UTF-8, which S3 and GCS keys must be (a file name from a folder).
 */
export function objectKey(key: string, storeUrl: string): string {
  if (key.isWellFormed()) return key;
  throw new FerryError(`${storeUrl}${displayKey(key)}: the name is not valid UTF-8, which an object key must be`, {
    hint: 'rename the file at the source to UTF-8 (e.g. convmv -f latin1 -t utf8), or copy it to a folder, which keeps any name',
    code: 'InvalidObjectName',
    kind: 'item',
  });
}
