// JSON text exactly as Python's json.dumps writes it with its default arguments, the form of the
// files written by the facility scripts Ferry replaces: ", " between items and ": " after keys,
// no indentation, no trailing newline, keys in insertion order, and every character outside
// printable ASCII (U+0020..U+007E) escaped as \uXXXX in lower-case hex (UTF-16 units, so a
// character beyond U+FFFF becomes a surrogate pair).

/**
 * What the facility scripts write: strings, null and objects. A Map keeps its insertion order
 * for every key; a plain object is written in JavaScript's property order, which moves keys that
 * look like array indices ("7") to the front, so pass a Map where such keys may occur.
 */
export type PythonJson = string | null | ReadonlyMap<string, PythonJson> | { readonly [key: string]: PythonJson | undefined };

export function pythonJsonDumps(value: PythonJson): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return pythonString(value);
  const entries = value instanceof Map ? [...value] : Object.entries(value).filter(([, v]) => v !== undefined);
  return `{${entries.map(([k, v]) => `${pythonString(k)}: ${pythonJsonDumps(v as PythonJson)}`).join(', ')}}`;
}

// JSON.stringify already escapes quote, backslash and the control characters the way Python
// does (\b \f \n \r \t, the rest as \u00xx); Python's ensure_ascii also escapes DEL and everything
// above it, one UTF-16 unit at a time.
function pythonString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
