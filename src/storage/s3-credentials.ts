// Where S3 credentials come from: the AWS CLI's own chain (env, profile, SSO, assume-role,
// credential_process, IMDS) through the SDK, or a user command printing short-lived keys that are
// refreshed before they expire, so a transfer of many hours never meets an ExpiredToken.
import { execFile } from 'node:child_process';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { FerryError } from '../errors.ts';

export interface S3Credentials {
  provider: AwsCredentialIdentityProvider;
  /** Drops cached credentials so the next request fetches new ones (after an ExpiredToken answer). */
  invalidate(): void;
  /** Says where the keys came from, for error messages: never the secret. */
  describe(): string;
}

/** Refresh at 80% of the lifetime, and never later than 5 minutes before expiry. */
export function refreshAt(fetchedAt: number, expiresAt: number): number {
  const atFraction = fetchedAt + 0.8 * (expiresAt - fetchedAt);
  const fiveMinutesBefore = expiresAt - 5 * 60_000;
  // Keys living under 5 minutes would otherwise be refetched on every request.
  return fiveMinutesBefore > fetchedAt ? Math.min(atFraction, fiveMinutesBefore) : atFraction;
}

function runCommand(command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // The command is exactly what the user wrote, run by the shell as credential_process would be.
    execFile('/bin/sh', ['-c', command], { timeout: 120_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const why = stderr.trim().split('\n').pop() || err.message;
        reject(new FerryError(`credential command "${command}" failed: ${why}`, {
          hint: 'run the command by hand; it must print JSON with AccessKeyId and SecretAccessKey',
          code: 'CredentialCommandFailed',
        }));
      } else resolve(stdout);
    });
  });
}

/** Accepts the credential_process form and the {"Credentials": {...}} wrapper of aws sts / s3control. */
export function parseCredentialJson(command: string, text: string): AwsCredentialIdentity {
  const bad = (why: string) => new FerryError(`credential command "${command}" printed ${why}`, {
    hint: 'it must print JSON {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}, optionally inside {"Credentials": ...}',
    code: 'CredentialCommandOutput',
  });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw bad('something that is not JSON');
  }
  const outer = doc as Record<string, unknown> | null;
  const c = (outer && typeof outer.Credentials === 'object' ? outer.Credentials : outer) as Record<string, unknown> | null;
  if (!c || typeof c.AccessKeyId !== 'string' || typeof c.SecretAccessKey !== 'string') throw bad('JSON without AccessKeyId and SecretAccessKey');
  let expiration: Date | undefined;
  if (c.Expiration !== undefined && c.Expiration !== null) {
    expiration = new Date(c.Expiration as string);
    if (Number.isNaN(expiration.getTime())) throw bad(`an Expiration that is not a date (${String(c.Expiration)})`);
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: typeof c.SessionToken === 'string' ? c.SessionToken : undefined,
    expiration,
  };
}

export function credentialsFromCommand(command: string): S3Credentials {
  let current: AwsCredentialIdentity | undefined;
  let renewAt = 0;
  let pending: Promise<AwsCredentialIdentity> | undefined;
  const fetch = async (): Promise<AwsCredentialIdentity> => {
    const fetchedAt = Date.now();
    const creds = parseCredentialJson(command, await runCommand(command));
    current = creds;
    renewAt = creds.expiration ? refreshAt(fetchedAt, creds.expiration.getTime()) : Infinity;
    return creds;
  };
  const provider = async (): Promise<AwsCredentialIdentity> => {
    if (current && Date.now() < renewAt) return current;
    // One command run however many requests are waiting for it.
    pending ??= fetch().finally(() => { pending = undefined; });
    return pending;
  };
  return {
    provider,
    invalidate() { renewAt = 0; },
    describe: () => `keys from the credential command "${command}"${current ? ` (access key ${current.accessKeyId})` : ''}`,
  };
}

/** Keys in the environment, which the chain would take first; reading them needs no SDK module. */
function environmentKeys(profile: string | undefined): AwsCredentialIdentity | undefined {
  const env = process.env;
  // As the SDK's chain: a named profile (option or AWS_PROFILE) takes precedence over env keys.
  if (profile || env.AWS_PROFILE || !env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return undefined;
  const expiration = env.AWS_CREDENTIAL_EXPIRATION ? new Date(env.AWS_CREDENTIAL_EXPIRATION) : undefined;
  return { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN || undefined, expiration };
}

export function credentialsFromChain(profile: string | undefined): S3Credentials {
  const fromEnv = environmentKeys(profile);
  // The SDK's provider modules cost ~30 ms to load: only when the environment has no keys.
  const newChain = async () => (await import('@aws-sdk/credential-providers')).fromNodeProviderChain(profile ? { profile } : {});
  let chain: Promise<AwsCredentialIdentityProvider> | undefined;
  let last: AwsCredentialIdentity | undefined;
  const provider = async (): Promise<AwsCredentialIdentity> => {
    if (fromEnv) return (last = fromEnv);
    try {
      chain ??= newChain();
      last = await (await chain)();
      return last;
    } catch (e) {
      if (e instanceof FerryError) throw e;
      const why = e instanceof Error ? e.message : String(e);
      throw new FerryError(`no usable AWS credentials${profile ? ` for profile "${profile}"` : ''}: ${why}`, {
        hint: 'set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, pass --profile, or run "aws sso login"',
        code: 'NoCredentials',
        cause: e,
      });
    }
  };
  return {
    provider,
    invalidate() { chain = undefined; },
    describe() {
      const key = last ? ` (access key ${last.accessKeyId})` : '';
      if (profile) return `profile "${profile}"${key}`;
      if (process.env.AWS_ACCESS_KEY_ID) return `AWS_ACCESS_KEY_ID from the environment${key}`;
      return `the default AWS credential chain (profile "${process.env.AWS_PROFILE ?? 'default'}")${key}`;
    },
  };
}
