// Connects to S3 the way the AWS CLI would (endpoint, region and profile from the same places):
// small PUTs and listings go by hand (s3-http.ts); everything else through an S3Client that is
// built, with the SDK's modules, only when a request needs it, so a re-sync that only lists
// never pays the ~100 ms it takes to load them.
import type * as Http from 'node:http';
import type { S3Client } from '@aws-sdk/client-s3';
import { FerryError } from '../errors.ts';
import { credentialsFromChain, credentialsFromCommand, type S3Credentials } from './s3-credentials.ts';
import { S3Http } from './s3-http.ts';
import type { S3Options } from './s3-options.ts';

// Not imported as ESM, which would load undici at start-up (see s3-http.ts).
const http = process.getBuiltinModule('node:http');
const https = process.getBuiltinModule('node:https');

export type S3Api = typeof import('@aws-sdk/client-s3');

export interface S3Connection {
  /** The SDK client and its command classes, loaded and built on first use. */
  sdk(): Promise<{ client: S3Client; api: S3Api }>;
  /** Small PUTs and listings, by hand: the SDK's per-request CPU decides small-file speed. */
  http: S3Http;
  credentials: S3Credentials;
  /** The endpoint requests go to, for messages: a custom URL or "AWS S3 (REGION)". */
  endpointLabel: string;
  /** Fetches new keys now, past both our cache and the SDK's (after an ExpiredToken answer). */
  refreshCredentials(): Promise<void>;
  /** Closes the sockets of both paths. */
  destroy(): void;
}

interface ProfileSettings {
  endpoint?: string;
  region?: string;
}

async function profileSettings(profile: string): Promise<ProfileSettings> {
  // @smithy/core ships with the SDK; its loader reads ~/.aws/config exactly as the SDK itself does.
  const { loadSharedConfigFiles } = await import('@smithy/core/config');
  const { configFile } = await loadSharedConfigFiles();
  const section = configFile[profile] ?? {};
  // A profile may point at a [services NAME] section holding per-service settings.
  const services = section.services ? configFile[`services.${section.services}`] ?? {} : {};
  return { endpoint: services['s3.endpoint_url'] ?? section.endpoint_url, region: section.region };
}

function checkEndpoint(endpoint: string, from: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new FerryError(`S3 endpoint "${endpoint}" (${from}) is not a URL`, { hint: 'write it as http://HOST:PORT or https://HOST', code: 'BadEndpoint' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FerryError(`S3 endpoint "${endpoint}" (${from}) must start with http:// or https://`, { hint: 'write it as http://HOST:PORT or https://HOST', code: 'BadEndpoint' });
  }
  return endpoint.replace(/\/+$/, '');
}

export interface S3ClientTuning {
  /** Sockets per host; small-object throughput is bound by how many requests are in flight. */
  maxSockets?: number;
}

export async function connectS3(opts: S3Options, tuning: S3ClientTuning = {}): Promise<S3Connection> {
  const profile = opts.profile ?? process.env.AWS_PROFILE ?? 'default';
  const env = process.env;
  const ignoreConfigured = /^true$/i.test(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? '');
  const endpointGiven = opts.endpoint || (!ignoreConfigured && (env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL));
  const regionGiven = opts.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  // The config file can only add an endpoint or a region: not read when both are given.
  const fromProfile = endpointGiven && regionGiven ? {} : await profileSettings(profile);
  let endpoint: string | undefined;
  if (opts.endpoint) endpoint = checkEndpoint(opts.endpoint, '--endpoint-url');
  else if (!ignoreConfigured && env.AWS_ENDPOINT_URL_S3) endpoint = checkEndpoint(env.AWS_ENDPOINT_URL_S3, 'AWS_ENDPOINT_URL_S3');
  else if (!ignoreConfigured && env.AWS_ENDPOINT_URL) endpoint = checkEndpoint(env.AWS_ENDPOINT_URL, 'AWS_ENDPOINT_URL');
  else if (!ignoreConfigured && fromProfile.endpoint) endpoint = checkEndpoint(fromProfile.endpoint, `endpoint_url of profile "${profile}"`);
  const region = opts.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? fromProfile.region ?? 'us-east-1';
  const credentials = opts.credentialCommand
    ? credentialsFromCommand(opts.credentialCommand)
    : credentialsFromChain(opts.profile);
  const maxSockets = tuning.maxSockets ?? 64;
  const agentOptions = { keepAlive: true, maxSockets, keepAliveMsecs: 10_000 };
  const pathStyle = opts.pathStyle ?? endpoint !== undefined;
  let built: Promise<{ client: S3Client; api: S3Api }> | undefined;
  const buildSdk = async () => {
    const [api, { NodeHttpHandler }] = await Promise.all([import('@aws-sdk/client-s3'), import('@smithy/node-http-handler')]);
    const client = new api.S3Client({
      region,
      endpoint,
      // S3-compatible servers rarely have wildcard DNS for virtual-host buckets.
      forcePathStyle: pathStyle,
      credentials: credentials.provider,
      // The default streams bodies as aws-chunked with a checksum trailer, which Ceph and Swift
      // reject; we compute and send CRC32C and Content-MD5 ourselves.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      retryMode: 'standard',
      maxAttempts: 4,
      requestHandler: new NodeHttpHandler({
        httpAgent: new http.Agent(agentOptions),
        httpsAgent: new https.Agent(agentOptions),
        connectionTimeout: 5_000,
        requestTimeout: 120_000,
      }),
    });
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { headers?: Record<string, string> };
        // The body is already protected by a signed Content-MD5 that the server checks: hashing it a
        // second time with SHA-256 for the signature only costs client CPU (~20% of a large upload).
        if (request.headers?.['content-md5']) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
        return next(args);
      },
      { step: 'build', name: 'ferryUnsignedPayload' },
    );
    return { client, api };
  };
  const direct = new S3Http({ endpoint, region, pathStyle, credentials: credentials.provider, maxSockets });
  const refreshCredentials = async () => {
    credentials.invalidate();
    if (!built) return;
    // The SDK memoizes the provider and keeps keys until 5 minutes before their expiry.
    const { client } = await built;
    const memoized = client.config.credentials as (o?: { forceRefresh?: boolean }) => Promise<unknown>;
    await memoized({ forceRefresh: true });
  };
  const destroy = () => {
    direct.destroy();
    void built?.then(({ client }) => client.destroy());
  };
  return { sdk: () => (built ??= buildSdk()), http: direct, credentials, endpointLabel: endpoint ?? `AWS S3 (${region})`, refreshCredentials, destroy };
}
