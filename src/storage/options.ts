// How a driver declares the options a user may give its stores, and the declarations more than one
// driver reads. A declaration is plain data, so the CLI builds its flags from it at start-up
// without loading a schema library; job parameters validate the same declarations with zod
// (spec-schema.ts), and the TypeScript types follow from them (OptionsOf).

/** How a value is written on the command line and kept in job parameters. */
export type OptionKind = 'text' | 'switch' | 'bytes' | 'count';

export interface OptionDeclaration {
  /** The command-line flag and its value placeholder, as commander reads it: '--part-size <bytes>'. */
  readonly flag: string;
  readonly kind: OptionKind;
  /** One line of --help. */
  readonly help: string;
}

export type OptionDeclarations = Readonly<Record<string, OptionDeclaration>>;

type ValueOf<K extends OptionKind> = K extends 'text' ? string : K extends 'switch' ? boolean : number;

/** The options object a set of declarations describes; every option may be left out. */
export type OptionsOf<D extends OptionDeclarations> = { [K in keyof D]?: ValueOf<D[K]['kind']> };

/** How every object written to an object store (S3, GCS) is kept. */
export const OBJECT_WRITE_OPTIONS = {
  acl: { flag: '--acl <acl>', kind: 'text', help: 'canned ACL for every object written, e.g. bucket-owner-full-control' },
  storageClass: { flag: '--storage-class <class>', kind: 'text', help: 'storage class for every object written' },
} as const satisfies OptionDeclarations;

export type ObjectWriteOptions = OptionsOf<typeof OBJECT_WRITE_OPTIONS>;

/** How a large body is split into parts written in parallel (directory, S3 and GCS drivers). */
export const PART_OPTIONS = {
  partSize: { flag: '--part-size <bytes>', kind: 'bytes', help: 'bytes per part of a multipart upload, e.g. 16M' },
  partConcurrency: { flag: '--part-concurrency <n>', kind: 'count', help: 'parts of one file in flight at once' },
  multipartThreshold: { flag: '--multipart-threshold <bytes>', kind: 'bytes', help: 'files at least this large go in parts' },
} as const satisfies OptionDeclarations;

export type PartOptions = OptionsOf<typeof PART_OPTIONS>;
