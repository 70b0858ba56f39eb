// What keeps the page safe on a shared network: a secret token for every request that changes
// something, checked in a header that a cross-site page cannot set without a CORS preflight (which
// this server never grants); Origin and Sec-Fetch-Site checks besides; a Host check against DNS
// rebinding while bound to the loopback interface; and headers that keep the page's own scripts
// the only ones that run.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FerryError } from '../errors.ts';

export const TOKEN_HEADER = 'x-ferry-token';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

/** The token in a file (its first line), for staff who share it, or a service that sets it. */
export async function readTokenFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new FerryError(`cannot read the token file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      hint: 'give a readable file holding the token on its first line, or leave --token-file out to get a new token printed',
    });
  }
  const token = text.split('\n')[0].trim();
  if (token.length < 16) {
    throw new FerryError(`the token in ${file} is ${token.length ? 'shorter than 16 characters' : 'empty'}`, {
      hint: 'write a long random token into the file, e.g. `openssl rand -base64 24 > FILE`',
    });
  }
  return token;
}

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || host.startsWith('127.');
}

export interface Guard {
  /** Refuses a request whose Host header names another server (DNS rebinding). */
  checkHost(req: FastifyRequest, reply: FastifyReply): boolean;
  /** Refuses a state-changing request from another site, or without the token. */
  checkMutation(req: FastifyRequest, reply: FastifyReply): boolean;
}

export function guard(o: { token: string | undefined; boundHost: string }): Guard {
  const expected = o.token === undefined ? undefined : digest(o.token);
  const loopbackOnly = isLoopback(o.boundHost);
  return {
    checkHost(req, reply) {
      if (!loopbackOnly) return true;
      const host = hostName(req.headers.host ?? '');
      if (isLoopback(host)) return true;
      refuse(reply, 421, `this server answers to 127.0.0.1 or localhost, not ${host || 'an empty Host header'}`);
      return false;
    },
    checkMutation(req, reply) {
      const site = req.headers['sec-fetch-site'];
      if (site !== undefined && site !== 'same-origin' && site !== 'none') {
        refuse(reply, 403, `cross-site request refused (Sec-Fetch-Site: ${site})`);
        return false;
      }
      const origin = req.headers.origin;
      if (origin !== undefined && originHost(origin) !== req.headers.host) {
        refuse(reply, 403, `cross-site request refused (Origin: ${origin})`);
        return false;
      }
      const given = req.headers[TOKEN_HEADER];
      if (expected === undefined || typeof given !== 'string' || !timingSafeEqual(digest(given), expected)) {
        refuse(reply, 403, given === undefined ? 'this action needs the token that `ferry serve` printed' : 'wrong token');
        return false;
      }
      return true;
    },
  };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function hostName(hostHeader: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(:\d+)?$/.exec(hostHeader.trim().toLowerCase());
  return m ? m[1] : '';
}

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

function refuse(reply: FastifyReply, status: number, message: string): void {
  void reply.code(status).type('application/json').send({ error: message });
}

/** Security headers of every answer; `page` ones (Ferry's own HTML, JSON) also get the strict CSP. */
export function securityHeaders(page: boolean): Record<string, string> {
  const h: Record<string, string> = {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
  };
  if (page) {
    h['content-security-policy'] = [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; ');
    h['x-frame-options'] = 'DENY';
  }
  return h;
}
