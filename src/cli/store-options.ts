// The storage flags every command that reads or writes a store accepts, and their parsing.
import { Option } from 'commander';
import type { Command } from 'commander';
import { FerryError } from '../errors.ts';
import type { StoreOptions } from '../storage/open.ts';

/** Help for the --ledger option every command that plans or runs jobs takes. */
export const LEDGER_HELP = 'ledger location: a SQLite file path or postgres://... URL (default: $FERRY_LEDGER, else .ferry/ledger.sqlite)';

export function parseBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(text.trim());
  if (!m) throw new FerryError(`"${text}" is not a size`, { hint: 'write a number of bytes with an optional K, M, G or T suffix, e.g. 64M' });
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(Number(m[1]) * mult);
}

export function parseCount(name: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new FerryError(`${name} must be a whole number of at least 1, not "${text}"`);
    return n;
  };
}

export function addStoreOptions(cmd: Command): Command {
  return cmd
    .option('--endpoint-url <url>', 'S3 endpoint (else AWS_ENDPOINT_URL or the profile\'s endpoint_url)')
    .option('--profile <name>', 'AWS profile from ~/.aws/config and ~/.aws/credentials')
    .option('--region <region>', 'S3 region')
    .option('--path-style', 'address S3 buckets in the path (most S3-compatible servers need it)')
    .option('--acl <acl>', 'canned ACL for every object written, e.g. bucket-owner-full-control')
    .option('--storage-class <class>', 'storage class for every object written')
    .option('--credential-command <command>', 'command printing JSON credentials (AccessKeyId, SecretAccessKey, SessionToken, Expiration); run again before they expire')
    .option('--key-file <path>', 'Google Cloud service-account key file (else application default credentials)')
    .addOption(new Option('--part-size <bytes>', 'bytes per part of a multipart upload, e.g. 16M').argParser(parseBytes))
    .addOption(new Option('--part-concurrency <n>', 'parts of one file in flight at once').argParser(parseCount('--part-concurrency')))
    .addOption(new Option('--multipart-threshold <bytes>', 'files at least this large go in parts').argParser(parseBytes));
}

export function storeOptionsFrom(o: Record<string, unknown>): StoreOptions {
  return {
    endpoint: o.endpointUrl as string | undefined,
    profile: o.profile as string | undefined,
    region: o.region as string | undefined,
    pathStyle: o.pathStyle as boolean | undefined,
    acl: o.acl as string | undefined,
    storageClass: o.storageClass as string | undefined,
    credentialCommand: o.credentialCommand as string | undefined,
    keyFile: o.keyFile as string | undefined,
    partSize: o.partSize as number | undefined,
    partConcurrency: o.partConcurrency as number | undefined,
    multipartThreshold: o.multipartThreshold as number | undefined,
  };
}
