import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseListPage } from './s3-http.ts';
import { canonicalQuery, EMPTY_SHA256, SigV4Signer, uriEncode } from './s3-sigv4.ts';

// The worked examples of the S3 SigV4 documentation ("Signature Calculations for the
// Authorization Header: Transferring Payload in a Single Chunk").
const keys = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const when = new Date('2013-05-24T00:00:00Z');

test('SigV4 matches the documented GET Object example', () => {
  const h: Record<string, string> = { host: 'examplebucket.s3.amazonaws.com', range: 'bytes=0-9' };
  new SigV4Signer('us-east-1').sign('GET', '/test.txt', '', h, EMPTY_SHA256, keys, when);
  assert.match(h.authorization, /Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41$/);
  assert.match(h.authorization, /SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,/);
});

test('SigV4 matches the documented list-objects example, query in canonical order', () => {
  const h: Record<string, string> = { host: 'examplebucket.s3.amazonaws.com' };
  const query = canonicalQuery({ prefix: 'J', 'max-keys': '2' });
  assert.equal(query, 'max-keys=2&prefix=J');
  new SigV4Signer('us-east-1').sign('GET', '/', query, h, EMPTY_SHA256, keys, when);
  assert.match(h.authorization, /Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7$/);
});

test('keys are encoded byte by byte, slashes kept in paths only', () => {
  assert.equal(uriEncode("a b/c+d(1)*!'~é", true), "a%20b/c%2Bd%281%29%2A%21%27~%C3%A9");
  assert.equal(uriEncode('a/b', false), 'a%2Fb');
});

test('a listing page decodes XML entities in keys and reads the continuation token', () => {
  const page = parseListPage(`<?xml version="1.0"?><ListBucketResult><IsTruncated>true</IsTruncated>
    <Contents><Key>a&amp;b &lt;1&gt; &#233;.txt</Key><LastModified>2026-01-02T03:04:05.000Z</LastModified><ETag>&quot;abc&quot;</ETag><Size>12</Size></Contents>
    <Contents><Key>z</Key><LastModified>2026-01-02T03:04:05.000Z</LastModified><ETag>"d41d8cd98f00b204e9800998ecf8427e-2"</ETag><Size>0</Size></Contents>
    <CommonPrefixes><Prefix>dir/</Prefix></CommonPrefixes><NextContinuationToken>tok&amp;en</NextContinuationToken></ListBucketResult>`);
  assert.deepEqual(page.objects, [
    { key: 'a&b <1> é.txt', size: 12, lastModifiedMs: Date.parse('2026-01-02T03:04:05Z'), etag: 'abc' },
    { key: 'z', size: 0, lastModifiedMs: Date.parse('2026-01-02T03:04:05Z'), etag: 'd41d8cd98f00b204e9800998ecf8427e-2' },
  ]);
  assert.deepEqual(page.prefixes, ['dir/']);
  assert.equal(page.nextToken, 'tok&en');
});
