// Ferry's working folder: manifests, upload journals and the default SQLite ledger live here.
// FERRY_WORKDIR moves it (e.g. to a shared file system for cluster workers); default ./.ferry.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export function workdir(...sub: string[]): string {
  const dir = join(resolve(process.env.FERRY_WORKDIR || '.ferry'), ...sub);
  mkdirSync(dir, { recursive: true });
  return dir;
}
