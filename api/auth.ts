/**
 * Admin authentication: `Authorization: Bearer <token>`; tokens are created by `npm run token` and stored hashed.
 * A PBX-scoped token sees only its own PBX: any other PBX id is answered exactly like a missing one (404), so a
 * tenant cannot even learn which other PBXes exist (R16). Provisioning routes never accept these tokens.
 * A live token is looked up once per API_ANSWER_CACHE_MS per API process, so a revocation (`npm run token --
 * revoke`) is refused within that time (1 s by default).
 */
import type { Context, MiddlewareHandler } from 'hono';
import { authenticateToken } from '../db/queries/api-tokens.ts';
import { getPbx, type PbxRow } from '../db/queries/pbxes.ts';
import { hashToken } from '../lib/secrets.ts';
import type { AppEnv, Principal } from './env.ts';
import { ApiError, notFound } from './errors.ts';

const BEARER = /^Bearer ([A-Za-z0-9._~+/-]{16,256}=*)$/;

export const requireToken: MiddlewareHandler<AppEnv> = async (c, next) => {
  const header = c.req.header('authorization');
  const m = header ? BEARER.exec(header.trim()) : null;
  if (!m) {
    c.header('WWW-Authenticate', 'Bearer');
    throw new ApiError(401, 'an admin token is required: Authorization: Bearer <token>', 'authorization');
  }
  const { db, answers } = c.var.deps;
  // One statement per token per API_ANSWER_CACHE_MS (issue 14): a page's polls and a burst of requests share it.
  const tokenHash = hashToken(m[1]!);
  const principal = await answers.tokens
    .get(tokenHash, async () => {
      const row = await authenticateToken(db, tokenHash, new Date());
      if (!row) throw new ApiError(401, 'unknown or revoked token', 'authorization');
      return { tokenId: row.id, name: row.name, pbxId: row.pbxId } satisfies Principal;
    })
    .catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 401)
        c.header('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw err;
    });
  c.set('principal', principal);
  await next();
};

/** A PBX-scoped token asking for another PBX gets the same 404 a missing PBX gets (R16). */
export function assertCallerMaySee(c: Context<AppEnv>, pbxId: string): void {
  const principal = c.var.principal;
  if (principal.pbxId !== null && principal.pbxId !== pbxId) throw notFound('PBX', pbxId, 'pbxId');
}

/** The PBX if this token may see it; otherwise the same 404 a missing PBX gets. */
export async function pbxForCaller(c: Context<AppEnv>, pbxId: string): Promise<PbxRow> {
  assertCallerMaySee(c, pbxId);
  const pbx = await getPbx(c.var.deps.db, pbxId);
  if (!pbx) throw notFound('PBX', pbxId, 'pbxId');
  return pbx;
}

export function requireDeploymentScope(c: Context<AppEnv>, what: string): void {
  if (c.var.principal.pbxId !== null) {
    throw new ApiError(403, `${what} needs a deployment-wide token; this token is scoped to one PBX`);
  }
}
