// Value parsers shared by command modules (kept apart so that command modules never import each
// other's registration or action modules).

/** "a, b,,c" -> ['a', 'b', 'c']. */
export function commaList(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter(Boolean);
}

/** A comma-separated flag that may also be repeated: --products a,b --products c. */
export const repeatableList = (v: string, prev: string[] = []) => [...prev, ...commaList(v)];
