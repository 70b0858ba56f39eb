// AWS Signature Version 4 for the S3 requests Ferry sends by hand (s3-http.ts). Bodies are never
// hashed: PUTs carry a signed Content-MD5 that the server checks, so the payload is UNSIGNED.
// The signing key depends only on the secret, the day and the region, so it is derived once a day
// instead of four HMACs per request.
import { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto';

export interface SigningKeys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** RFC 3986 encoding as SigV4 wants it: every byte but A-Z a-z 0-9 - _ . ~ (and '/' in paths). */
export function uriEncode(s: string, keepSlash: boolean): string {
  const e = encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return keepSlash ? e.replace(/%2F/g, '/') : e;
}

/** The query string in canonical order, which is also what goes on the wire. */
export function canonicalQuery(params: Record<string, string | undefined>): string {
  return Object.keys(params)
    .filter((k) => params[k] !== undefined)
    .sort()
    .map((k) => `${uriEncode(k, false)}=${uriEncode(params[k]!, false)}`)
    .join('&');
}

export class SigV4Signer {
  private readonly region: string;
  private keyFor: { secret: string; scopeDate: string; key?: KeyObject } = { secret: '', scopeDate: '' };

  constructor(region: string) {
    this.region = region;
  }

  private signingKey(secret: string, scopeDate: string): KeyObject {
    const cached = this.keyFor;
    if (cached.key && cached.secret === secret && cached.scopeDate === scopeDate) return cached.key;
    let k = createHmac('sha256', `AWS4${secret}`).update(scopeDate).digest();
    for (const part of [this.region, 's3', 'aws4_request']) k = createHmac('sha256', k).update(part).digest();
    // A KeyObject, because importing raw key bytes on every createHmac shows in profiles.
    const key = createSecretKey(k);
    this.keyFor = { secret, scopeDate, key };
    return key;
  }

  /**
   * Adds x-amz-date, x-amz-content-sha256, the session token and Authorization to `headers`
   * (lower-case names; `host` must be there). `path` and `query` are already URI-encoded.
   */
  sign(method: string, path: string, query: string, headers: Record<string, string>, payloadHash: string, keys: SigningKeys, now = new Date()): void {
    const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const scopeDate = amzDate.slice(0, 8);
    headers['x-amz-date'] = amzDate;
    headers['x-amz-content-sha256'] = payloadHash;
    if (keys.sessionToken) headers['x-amz-security-token'] = keys.sessionToken;
    const names = Object.keys(headers).sort();
    const signedHeaders = names.join(';');
    let canonicalHeaders = '';
    for (const n of names) canonicalHeaders += `${n}:${String(headers[n]).trim().replace(/\s+/g, ' ')}\n`;
    const canonicalRequest = `${method}\n${path}\n${query}\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
    const scope = `${scopeDate}/${this.region}/s3/aws4_request`;
    const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
    const signature = createHmac('sha256', this.signingKey(keys.secretAccessKey, scopeDate)).update(stringToSign).digest('hex');
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${keys.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  }
}
