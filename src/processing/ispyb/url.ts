// ISPyB database URLs (mysql://USER:PASSWORD@HOST:PORT/DATABASE), without the database driver: what
// a command checks and shows before it connects, and what jobs carry instead of the password.
import { FerryError } from '../../errors.ts';

export function isIspybUrl(url: string): boolean {
  return /^(mysql|mariadb):\/\//i.test(url);
}

/** The URL without its password (what messages and job parameters show); a FerryError if it is not an ISPyB URL. */
export function ispybWhere(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw badUrl(url);
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!isIspybUrl(url) || !u.hostname || !database) throw badUrl(url);
  return `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}/${database}`;
}

function badUrl(url: string): FerryError {
  return new FerryError(`${url.replace(/:[^@/]*@/, ':***@')} is not an ISPyB database URL`, {
    hint: 'write it as mysql://USER:PASSWORD@HOST:PORT/DATABASE',
  });
}
