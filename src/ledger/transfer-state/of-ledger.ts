// The transfer state that belongs with a ledger: in its PostgreSQL database, or beside its SQLite
// file (in a temporary folder for a ledger in memory).
import path from 'node:path';
import type { Engine } from '../engine.ts';
import type { TransferState } from './state.ts';

export async function transferStateOf(engine: Engine): Promise<TransferState> {
  if (engine.kind === 'postgres') {
    const { openPostgresTransferState } = await import('./postgres-state.ts');
    return openPostgresTransferState(engine);
  }
  const { openSqliteTransferState } = await import('./sqlite-state.ts');
  return openSqliteTransferState(engine.where === ':memory:' ? undefined : path.dirname(engine.where));
}
