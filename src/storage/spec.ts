// How Ferry names storage everywhere (command-line flags, job parameters, recipes): a URL plus
// options, every option declared by the driver that reads it. A copy between two kinds of store
// gives both the same options and each driver reads its own. Plain data and URL parsing only: the
// CLI loads this at start-up (the zod schema of the same options is in spec-schema.ts).
import { FerryError } from '../errors.ts';
import { GCS_OPTIONS } from './gcs-options.ts';
import { OBJECT_WRITE_OPTIONS, PART_OPTIONS } from './options.ts';
import type { OptionsOf } from './options.ts';
import { S3_OPTIONS } from './s3-options.ts';

/** Every option a user may give a store, in the order --help lists them. */
export const STORE_OPTIONS = { ...S3_OPTIONS, ...OBJECT_WRITE_OPTIONS, ...GCS_OPTIONS, ...PART_OPTIONS } as const;

export type StoreOptions = OptionsOf<typeof STORE_OPTIONS>;

/** A store: its URL (a local path, file://, s3://, gs:// or memory://) and the options to open it with. */
export interface StoreSpec {
  url: string;
  options?: StoreOptions;
}

/** The options that are set, or undefined when none is: job parameters stay short and readable in `ferry jobs show`. */
export function definedOptions(o: StoreOptions | undefined): StoreOptions | undefined {
  const set = Object.fromEntries(Object.entries(o ?? {}).filter(([, v]) => v !== undefined));
  return Object.keys(set).length ? set : undefined;
}

export type StoreScheme = 'file' | 's3' | 'gs' | 'memory';

export interface ParsedUrl {
  scheme: StoreScheme;
  /** Bucket for s3/gs; empty for file and memory. */
  bucket: string;
  /** file: the folder path as given; s3/gs/memory: key prefix ending in '/' or empty. */
  path: string;
}

export function parseStoreUrl(url: string): ParsedUrl {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(url);
  if (!m) return { scheme: 'file', bucket: '', path: url };
  const scheme = m[1].toLowerCase();
  const rest = m[2];
  if (scheme === 'file') return { scheme: 'file', bucket: '', path: decodePath(url, rest.replace(/^localhost\//, '/')) };
  if (scheme === 'memory') return { scheme, bucket: '', path: objectPrefix(url, rest) };
  if (scheme === 's3' || scheme === 'gs') {
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    if (!bucket) throw new FerryError(`${url} names no bucket`, { hint: `write it as ${scheme}://BUCKET/PREFIX` });
    if (!/^[a-z0-9][a-z0-9._-]{1,221}[a-z0-9]$/.test(bucket)) {
      throw new FerryError(`"${bucket}" is not a valid bucket name in ${url}`, {
        hint: 'bucket names are 3-63 lower-case letters, digits, dots and dashes',
      });
    }
    return { scheme, bucket, path: objectPrefix(url, slash < 0 ? '' : rest.slice(slash + 1)) };
  }
  throw new FerryError(`unsupported URL scheme "${scheme}://" in ${url}`, {
    hint: 'use a local path, file://, s3://BUCKET/PREFIX, gs://BUCKET/PREFIX or memory://PREFIX',
  });
}

function asPrefix(p: string): string {
  return p && !p.endsWith('/') ? `${p}/` : p;
}

/** A key prefix; a '..' in it would take an HTTP path (path-style S3) out of the bucket. */
function objectPrefix(url: string, p: string): string {
  if (p.split('/').includes('..')) {
    throw new FerryError(`${url} has a ".." in its key prefix`, { hint: 'object keys are not paths: write the prefix without ".." segments' });
  }
  return asPrefix(p);
}

function decodePath(url: string, p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    throw new FerryError(`${url} has a malformed %-escape`, { hint: 'in a file:// URL write % as %25 (or give the plain path instead of a URL)' });
  }
}

/**
 * The path on this machine that `url` names (as given: maybe relative), or undefined when it
 * names an object store: for what only a local file can do, such as being read by an image
 * library or told apart from a folder before any store is opened.
 */
export function localPathOf(url: string): string | undefined {
  const parsed = parseStoreUrl(url);
  return parsed.scheme === 'file' ? parsed.path : undefined;
}
