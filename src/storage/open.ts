// Chooses the driver from the URL: the one place that reads a scheme. Everything above this file
// sees only the Store interface. Drivers load on first use, so a folder-to-folder copy never loads
// a cloud SDK.
import { parseStoreUrl } from './spec.ts';
import type { StoreOptions, StoreSpec } from './spec.ts';
import type { Store } from './store.ts';
import type { UploadJournal } from './upload-journal.ts';

/** What Ferry gives a store besides the user's options. */
export interface StoreContext {
  /** Where multipart uploads are journaled (a ledger's transfer state); see S3StoreOptions.journal. */
  uploadJournal?: UploadJournal;
}

/** Opens the store a spec names; `openStore(url, options)` is the same as `openStore({ url, options })`. */
export async function openStore(spec: StoreSpec | string, options?: StoreOptions, context: StoreContext = {}): Promise<Store> {
  const { url, options: opts = {} } = typeof spec === 'string' ? { url: spec, options } : spec;
  const parsed = parseStoreUrl(url);
  switch (parsed.scheme) {
    case 'file': {
      const { openFileStore } = await import('./file.ts');
      return openFileStore(parsed.path, opts);
    }
    case 's3': {
      const { openS3Store } = await import('./s3.ts');
      return openS3Store(parsed.bucket, parsed.path, { ...opts, journal: context.uploadJournal });
    }
    case 'gs': {
      const { openGcsStore } = await import('./gcs.ts');
      return openGcsStore(parsed.bucket, parsed.path, opts);
    }
    case 'memory': {
      const { openMemoryStore } = await import('./memory.ts');
      return openMemoryStore(parsed.path);
    }
  }
}
