// Throw-away ISPyB databases for tests, in the MariaDB of scripts/services/mariadb.sh: each one
// gets the ISPyB tables (ispyb-tables.sql beside this file, or the complete schema file FERRY_TEST_ISPYB_SCHEMA
// names, e.g. ispyb-database's schemas/ispyb/tables.sql) and the seed's proposal and visits
// (SEED_VISITS).
import { readFile } from 'node:fs/promises';
import { createConnection } from 'mysql2/promise';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { SEED_PROPOSAL, SEED_VISITS } from './processing-records-contract.ts';
import type { SeedTime } from './processing-records-contract.ts';

export function ispybUrl(): string {
  const url = process.env.FERRY_TEST_ISPYB_URL;
  if (!url) {
    throw new Error(
      'FERRY_TEST_ISPYB_URL is not set: start MariaDB with `bash scripts/services/mariadb.sh start` and run `eval "$(bash scripts/services/mariadb.sh env)"`',
    );
  }
  return url;
}

export interface TestIspyb {
  url: string;
  database: string;
  /** Runs SQL in the test database (for checking and arranging rows as another ISPyB tool would). */
  query<T extends RowDataPacket[]>(sql: string, params?: unknown[]): Promise<T>;
  dispose(): Promise<void>;
}

export async function freshIspyb(): Promise<TestIspyb> {
  const base = new URL(ispybUrl());
  const database = `ferry_t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = await connect(base, undefined);
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const conn = await connect(base, database);
  const schemaFile = process.env.FERRY_TEST_ISPYB_SCHEMA ?? new URL('./ispyb-tables.sql', import.meta.url).pathname;
  await conn.query(await readFile(schemaFile, 'utf8'));
  await seed(conn);
  const url = new URL(base);
  url.pathname = `/${database}`;
  return {
    url: url.toString(),
    database,
    query: async <T extends RowDataPacket[]>(q: string, params: unknown[] = []) => (await conn.query<T>(q, params))[0],
    dispose: async () => {
      await conn.query(`DROP DATABASE IF EXISTS ${database}`);
      await conn.end();
    },
  };
}

function connect(base: URL, database: string | undefined): Promise<Connection> {
  return createConnection({
    host: base.hostname,
    port: Number(base.port),
    user: decodeURIComponent(base.username),
    password: decodeURIComponent(base.password),
    database,
    multipleStatements: true,
    timezone: 'local',
  });
}

async function seed(conn: Connection): Promise<void> {
  const p = SEED_PROPOSAL;
  await conn.query("INSERT INTO Person (personId, familyName, login) VALUES (1, 'Commissioning', 'ferrytest')");
  await conn.query('INSERT INTO Proposal (proposalId, personId, title, proposalCode, proposalNumber) VALUES (1, 1, ?, ?, ?)', [p.title, p.code, p.number]);
  for (const v of SEED_VISITS) {
    await conn.query(`INSERT INTO BLSession (proposalId, visit_number, beamLineName, startDate, endDate) VALUES (1, ?, ?, ${time(v.start)}, ${time(v.end)})`, [
      v.visitNumber,
      p.beamLineName,
    ]);
  }
}

/** Relative times on the database's clock, the one the records compare against. */
function time(t: SeedTime): string {
  return 'at' in t ? `'${t.at}'` : `NOW() + INTERVAL ${t.hoursFromNow} HOUR`;
}
