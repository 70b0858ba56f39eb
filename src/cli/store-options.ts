// The storage flags every command that reads or writes a store accepts, built from the options the
// drivers declare (src/storage/spec.ts), and their parsing into the StoreOptions job parameters carry.
import { Option } from 'commander';
import type { Command } from 'commander';
import { FerryError } from '../errors.ts';
import { OBJECT_WRITE_OPTIONS, PART_OPTIONS } from '../storage/options.ts';
import type { OptionDeclaration } from '../storage/options.ts';
import { STORE_OPTIONS } from '../storage/spec.ts';
import type { StoreOptions } from '../storage/spec.ts';

/** Help for the --ledger option every command that plans or runs jobs takes. */
export const LEDGER_HELP = 'ledger location: a SQLite file path or postgres://... URL (default: $FERRY_LEDGER, else .ferry/ledger.sqlite)';

export function parseBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?$/i.exec(text.trim());
  if (!m) throw new FerryError(`"${text}" is not a size`, { hint: 'write a number of bytes with an optional K, M, G or T suffix, e.g. 64M' });
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(Number(m[1]) * mult);
}

export function parseCount(name: string) {
  return (text: string): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new FerryError(`${name} must be a whole number of at least 1, not "${text}"`);
    return n;
  };
}

function flagOption(d: OptionDeclaration): Option {
  const option = new Option(d.flag, d.help);
  if (d.kind === 'bytes') option.argParser(parseBytes);
  if (d.kind === 'count') option.argParser(parseCount(option.long!));
  return option;
}

/** The storage flags; `writes: false` for commands that only read stores (no ACL, no part sizes). */
export function addStoreOptions(cmd: Command, o: { writes?: boolean } = {}): Command {
  const writeOnly = new Set<string>([...Object.keys(OBJECT_WRITE_OPTIONS), ...Object.keys(PART_OPTIONS)]);
  for (const [name, d] of Object.entries(STORE_OPTIONS)) if (o.writes !== false || !writeOnly.has(name)) cmd.addOption(flagOption(d));
  return cmd;
}

/** The storage flags given, as StoreOptions; flags not given are left out. */
export function storeOptionsFrom(o: Record<string, unknown>): StoreOptions {
  const out: Record<string, unknown> = {};
  for (const [name, d] of Object.entries(STORE_OPTIONS)) {
    const value = o[new Option(d.flag).attributeName()];
    if (value !== undefined) out[name] = value;
  }
  return out as StoreOptions;
}
