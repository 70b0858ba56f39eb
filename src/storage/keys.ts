// Keys and folders that recipes build from templates, job files and layouts (a plate's path in the
// gallery, a product's destination): normalised here, in one place, and refused when they would
// leave the destination they are meant to be under. An object store does not resolve `..` itself,
// but an HTTP path does (path-style S3 goes to another bucket), and a folder certainly does.
import { join } from 'node:path';
import { FerryError } from '../errors.ts';

/**
 * `rel` as a key below a root: '/'-separated, without empty or '.' segments, `a/../b` as `b`.
 * Throws (kind 'config': it came from a template, a layout or a job file) when it would leave the
 * root, names nothing, or holds a NUL byte. `what` names it in the message ("the plate folder").
 */
export function childKey(rel: string, what: string): string {
  if (rel.includes('\0')) throw leaves(rel, what, 'holds a NUL byte');
  const out: string[] = [];
  for (const seg of rel.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg !== '..') out.push(seg);
    else if (out.length) out.pop();
    else throw leaves(rel, what, 'leaves the destination (a ".." above its root)');
  }
  if (out.length === 0) throw leaves(rel, what, 'names the destination itself, not a folder in it');
  return out.join('/');
}

/**
 * The folder `rel` below `root` (a local path, file://, s3://, gs:// or memory:// location), as a
 * location ending in '/': `rel` goes through childKey, and into a file:// URL percent-encoded, so
 * that a '%' or '#' in a name stays a name.
 */
export function childFolder(root: string, rel: string, what: string): string {
  const key = childKey(rel, what);
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(root)) return join(root, ...key.split('/')) + '/';
  const encoded = /^file:/i.test(root) ? key.split('/').map(encodeURIComponent).join('/') : key;
  return `${root.replace(/\/*$/, '/')}${encoded}/`;
}

function leaves(rel: string, what: string, why: string): FerryError {
  return new FerryError(`${what} ${JSON.stringify(rel)} ${why}`, {
    hint: 'every key Ferry writes stays below the destination you give; fix the template, layout or job file that made it',
    kind: 'config',
  });
}
