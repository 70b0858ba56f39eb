// Ferry's working folder for what belongs to no ledger: scheduler logs. FERRY_WORKDIR moves it
// (e.g. to a shared file system for cluster workers); default ./.ferry. Manifests and upload
// journals used to live here too; they now live with the ledger (src/ledger/transfer-state/),
// which reads the ones an older Ferry left here.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The working folder's path, created by nobody. */
export function workdirPath(): string {
  return resolve(process.env.FERRY_WORKDIR || '.ferry');
}

export function workdir(...sub: string[]): string {
  const dir = join(workdirPath(), ...sub);
  mkdirSync(dir, { recursive: true });
  return dir;
}
