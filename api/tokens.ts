/**
 * Admin tokens (R16): `npm run token -- create --name alice [--pbx acme]`, `list`, `revoke --name alice | --id 3`.
 * A token is printed once and stored only as its SHA-256; `--pbx` scopes it to one PBX, without it the token
 * covers the whole deployment.
 */
import { parseArgs } from 'node:util';
import type { Db } from '../db/client.ts';
import { insertApiToken, listApiTokens, revokeApiTokens } from '../db/queries/api-tokens.ts';
import { getPbx } from '../db/queries/pbxes.ts';
import { generateSecret, hashToken } from '../lib/secrets.ts';

const TOKEN_PREFIX = 'pfd_';

/** Creates a token and returns it in plain text (the only time it exists outside the caller). */
export async function createApiToken(
  db: Db,
  spec: { name: string; pbxId?: string | null },
): Promise<{ id: number; token: string; name: string; pbxId: string | null }> {
  const name = spec.name.trim();
  if (!/^[\w.@-]{1,100}$/.test(name)) throw new Error('--name: letters, digits, . _ @ - (at most 100)');
  const pbxId = spec.pbxId ?? null;
  if (pbxId !== null && !(await getPbx(db, pbxId)))
    throw new Error(`--pbx: PBX ${JSON.stringify(pbxId)} not found`);
  const token = TOKEN_PREFIX + generateSecret(32);
  const row = await insertApiToken(db, { name, tokenHash: hashToken(token), pbxId });
  return { id: row.id, token, name, pbxId };
}

async function cli(argv: string[]) {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: { name: { type: 'string' }, pbx: { type: 'string' }, id: { type: 'string' } },
    strict: true,
  });
  if (!['create', 'list', 'revoke'].includes(command ?? '')) {
    throw new Error('usage: token create --name <who> [--pbx <id>] | list | revoke --id <n> | --name <who>');
  }
  const { databaseUrlForTools, loadConfig } = await import('../lib/config.ts');
  const { connectDb } = await import('../db/client.ts');
  const { migrateDatabase } = await import('../db/migrate.ts');
  const config = loadConfig();
  const url = databaseUrlForTools(config);
  await migrateDatabase(url);
  const { db, close } = connectDb(url, { max: 1 });
  try {
    if (command === 'create') {
      if (!values.name) throw new Error('create needs --name <who>');
      const t = await createApiToken(db, { name: values.name, pbxId: values.pbx ?? null });
      process.stderr.write(
        `token #${t.id} for ${t.name} (${t.pbxId ? `PBX ${t.pbxId}` : 'whole deployment'}); shown once:\n`,
      );
      process.stdout.write(`${t.token}\n`);
    } else if (command === 'list') {
      for (const t of await listApiTokens(db)) {
        process.stdout.write(
          `${t.id}\t${t.name}\t${t.pbxId ?? '*'}\t${t.revokedAt ? `revoked ${t.revokedAt.toISOString()}` : 'live'}\t` +
            `last used ${t.lastUsedAt?.toISOString() ?? 'never'}\n`,
        );
      }
    } else {
      const by = values.id ? { id: Number(values.id) } : values.name ? { name: values.name } : undefined;
      if (!by || ('id' in by && !Number.isInteger(by.id)))
        throw new Error('revoke needs --id <n> or --name <who>');
      const revoked = await revokeApiTokens(db, by);
      process.stdout.write(`revoked ${revoked.length} token(s)\n`);
      if (revoked.length === 0) process.exitCode = 1;
    }
  } finally {
    await close();
  }
}

if (import.meta.main) {
  cli(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  });
}
