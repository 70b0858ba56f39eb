// Chooses the driver from the URL. Everything above this file sees only the Store interface.
import { FerryError } from '../errors.ts';
import type { Store } from './store.ts';

export interface StoreOptions {
  /** S3: endpoint URL (else --endpoint-url, AWS_ENDPOINT_URL or the profile's endpoint_url). */
  endpoint?: string;
  /** S3: named profile from ~/.aws/config and ~/.aws/credentials. */
  profile?: string;
  region?: string;
  /** S3: bucket in the path instead of the host name (needed by most S3-compatible servers). */
  pathStyle?: boolean;
  /** S3: canned ACL for every write, e.g. bucket-owner-full-control. */
  acl?: string;
  /** S3 / GCS: storage class for every write. */
  storageClass?: string;
  /** Bytes per part of a multipart write (S3 grows it so that no object needs over 10,000 parts). */
  partSize?: number;
  /** Parts of one object in flight at once. */
  partConcurrency?: number;
  /** Objects at least this large go in parts. */
  multipartThreshold?: number;
  /** Folder where interrupted multipart uploads are journaled so that a re-run resumes them. */
  journalDir?: string;
  /** S3: credentials from a command printing JSON {AccessKeyId, SecretAccessKey, SessionToken, Expiration}. */
  credentialCommand?: string;
  /** GCS: path of a service-account key file (else application default credentials). */
  keyFile?: string;
}

export type StoreScheme = 'file' | 's3' | 'gs';

export interface ParsedUrl {
  scheme: StoreScheme;
  /** Bucket for s3/gs; empty for file. */
  bucket: string;
  /** file: absolute folder path; s3/gs: key prefix ending in '/' or empty. */
  path: string;
}

export function parseStoreUrl(url: string): ParsedUrl {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(url);
  if (!m) return { scheme: 'file', bucket: '', path: url };
  const scheme = m[1].toLowerCase();
  const rest = m[2];
  if (scheme === 'file') return { scheme: 'file', bucket: '', path: decodeURIComponent(rest.replace(/^localhost\//, '/')) };
  if (scheme === 's3' || scheme === 'gs') {
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    let prefix = slash < 0 ? '' : rest.slice(slash + 1);
    if (!bucket) throw new FerryError(`${url} names no bucket`, { hint: `write it as ${scheme}://BUCKET/PREFIX` });
    if (!/^[a-z0-9][a-z0-9._-]{1,221}[a-z0-9]$/.test(bucket)) {
      throw new FerryError(`"${bucket}" is not a valid bucket name in ${url}`, {
        hint: 'bucket names are 3-63 lower-case letters, digits, dots and dashes',
      });
    }
    if (prefix && !prefix.endsWith('/')) prefix += '/';
    return { scheme, bucket, path: prefix };
  }
  throw new FerryError(`unsupported URL scheme "${scheme}://" in ${url}`, {
    hint: 'use a local path, file://, s3://BUCKET/PREFIX or gs://BUCKET/PREFIX',
  });
}

export async function openStore(url: string, opts: StoreOptions = {}): Promise<Store> {
  const parsed = parseStoreUrl(url);
  switch (parsed.scheme) {
    case 'file': {
      const { openFileStore } = await import('./file.ts');
      return openFileStore(parsed.path, opts);
    }
    case 's3': {
      const { openS3Store } = await import('./s3.ts');
      return openS3Store(parsed.bucket, parsed.path, opts);
    }
    case 'gs': {
      const { openGcsStore } = await import('./gcs.ts');
      return openGcsStore(parsed.bucket, parsed.path, opts);
    }
  }
}
