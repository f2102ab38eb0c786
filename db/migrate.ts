import { fileURLToPath, pathToFileURL } from 'node:url';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { connectDb } from './client.ts';

export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/** Arbitrary constant: the advisory lock that serialises migrations of processes starting together. */
const MIGRATION_LOCK = 4_711_000_001;

/**
 * Applies the drizzle-kit migrations in db/migrations. Safe on every start and from many processes at once:
 * an advisory lock lets one process migrate while the others wait, then find nothing left to apply.
 */
export async function migrateDatabase(url: string): Promise<void> {
  const handle = connectDb(url, { max: 1 });
  try {
    await handle.sql`select pg_advisory_lock(${MIGRATION_LOCK})`;
    try {
      await migrate(handle.db, { migrationsFolder });
    } finally {
      await handle.sql`select pg_advisory_unlock(${MIGRATION_LOCK})`;
    }
  } finally {
    await handle.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error('DATABASE_URL is not set');
    process.exit(2);
  }
  await migrateDatabase(url);
  console.error('migrations applied');
}
