// The options only the s3:// driver reads: where the endpoint is and whose credentials to use,
// found the way the AWS CLI finds them when they are not given (see s3-client.ts).
import type { ObjectWriteOptions, OptionDeclarations, OptionsOf, PartOptions } from './options.ts';

export const S3_OPTIONS = {
  endpoint: { flag: '--endpoint-url <url>', kind: 'text', help: 'S3 endpoint (else AWS_ENDPOINT_URL or the profile\'s endpoint_url)' },
  profile: { flag: '--profile <name>', kind: 'text', help: 'AWS profile from ~/.aws/config and ~/.aws/credentials' },
  region: { flag: '--region <region>', kind: 'text', help: 'S3 region' },
  pathStyle: { flag: '--path-style', kind: 'switch', help: 'address S3 buckets in the path (most S3-compatible servers need it)' },
  credentialCommand: {
    flag: '--credential-command <command>',
    kind: 'text',
    help: 'command printing JSON credentials (AccessKeyId, SecretAccessKey, SessionToken, Expiration); run again before they expire',
  },
} as const satisfies OptionDeclarations;

/** Everything a user may give an S3 store. */
export type S3Options = OptionsOf<typeof S3_OPTIONS> & ObjectWriteOptions & PartOptions;
