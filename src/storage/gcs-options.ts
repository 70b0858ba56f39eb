// The option only the gs:// driver reads: which Google credentials to use.
import type { ObjectWriteOptions, OptionDeclarations, OptionsOf, PartOptions } from './options.ts';

export const GCS_OPTIONS = {
  keyFile: { flag: '--key-file <path>', kind: 'text', help: 'Google Cloud service-account key file (else application default credentials)' },
} as const satisfies OptionDeclarations;

/** Everything a user may give a GCS store (part concurrency is the SDK's: one chunk at a time). */
export type GcsOptions = OptionsOf<typeof GCS_OPTIONS> & ObjectWriteOptions & Omit<PartOptions, 'partConcurrency'>;
