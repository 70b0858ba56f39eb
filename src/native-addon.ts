// Ferry's optional native addons (native/<name>/, built by npm's postinstall where the tools are):
// loading one is the same for all of them.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { FerryError } from './errors.ts';

/**
 * The addon at `file`, or undefined when it is not there (not built here). One that is there but
 * does not load (built for another platform, a damaged file) is an error worth seeing, not a
 * silent fall back to the slower path; `without` says what Ferry does once it is deleted.
 */
export function loadAddon<T>(file: URL, name: string, without: string): T | undefined {
  try {
    return createRequire(import.meta.url)(fileURLToPath(file)) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw new FerryError(`the ${name} addon ${fileURLToPath(file)} does not load: ${(e as Error).message}`, {
      kind: 'environment',
      hint: `rebuild it here with \`bash native/${name}/build.sh\`, or delete native/${name}/build to ${without}`,
      cause: e,
    });
  }
}
