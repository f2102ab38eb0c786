/**
 * Every client mistake becomes a 4xx with `{ error, field? }` naming what was wrong; nothing is changed.
 * Only real faults (a bug, the database gone) become a 500, and they are logged.
 */
import type { Context, ErrorHandler, MiddlewareHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import type { AppEnv } from './env.ts';

export interface ErrorBody {
  error: string;
  /** The request field at fault, as a dotted path (`accounts.3.mac`), `body` for the body as a whole. */
  field?: string;
}

/** A refusal the client can act on. Thrown from handlers; `onApiError` renders it. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  readonly field: string | undefined;
  readonly extra: Record<string, unknown> | undefined;

  constructor(
    status: ContentfulStatusCode,
    message: string,
    field?: string,
    extra?: Record<string, unknown>,
  ) {
    super(message);
    this.status = status;
    this.field = field;
    this.extra = extra;
  }
}

export const notFound = (what: string, id: string | number, field: string) =>
  new ApiError(404, `${what} ${JSON.stringify(String(id))} not found`, field);

/** Zod issues → the first one, phrased as `<field>: <message>`; unknown keys name the key itself. */
export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  target: string,
): ErrorBody & { issues: unknown[] } {
  const fieldOf = (issue: z.core.$ZodIssue) => {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys' && issue.keys.length > 0) path.push(issue.keys[0]!);
    return path.length > 0 ? path.join('.') : target === 'json' ? 'body' : target;
  };
  const first = issues[0] && innermost(issues[0]);
  const field = first ? fieldOf(first) : 'body';
  return {
    error: first ? `${field}: ${first.message}` : 'invalid request',
    field,
    issues: issues.map(innermost).map((i) => ({ field: fieldOf(i), message: i.message })),
  };
}

/**
 * A value that matches no branch of a union (`updateMoment`: a moment or null) is reported by the branch that got
 * furthest, so the answer names `updateMoment.time`, not just `updateMoment`.
 */
function innermost(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return issue;
  const candidates = issue.errors.flat().map(innermost);
  const best = candidates.reduce((a, b) => (b.path.length > a.path.length ? b : a));
  return best.path.length === 0 ? issue : { ...best, path: [...issue.path, ...best.path] };
}

/** The defaultHook of every route: validation failures become 400 naming the field. */
export function validationHook(
  result: { success: boolean; error?: { issues: readonly z.core.$ZodIssue[] }; target: string },
  c: Context<AppEnv>,
) {
  if (!result.success) {
    return c.json(describeIssues(result.error?.issues ?? [], result.target), 400);
  }
}

export const onApiError: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof ApiError) {
    const body: Record<string, unknown> = { error: err.message, ...err.extra };
    if (err.field) body.field = err.field;
    return c.json(body, err.status);
  }
  if (err instanceof HTTPException) {
    const res = err.getResponse();
    const status = res.status as ContentfulStatusCode;
    if (status < 500) {
      const field = status === 400 || status === 413 || status === 415 ? 'body' : undefined;
      return c.json(
        { error: err.message || res.statusText || 'bad request', ...(field ? { field } : {}) },
        status,
      );
    }
  }
  c.var.deps?.logger.error({ err, method: c.req.method, path: c.req.path }, 'request failed');
  return c.json({ error: 'internal error' }, 500);
};

export const onNotFound: NotFoundHandler<AppEnv> = (c) =>
  c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404);

/**
 * A path that exists with other methods is 405 with `Allow` (RFC 9110 15.5.6), and OPTIONS lists its methods.
 * HEAD is answered wherever GET is. Where a literal segment and a parameter both match (`accounts/bulk`,
 * `accounts/{accountId}`) the literal route is the resource, as in the router and the OpenAPI document.
 */
export function methodsAllowed(
  routes: () => ReadonlyArray<{ method: string; path: string }>,
): MiddlewareHandler<AppEnv> {
  let table: Array<{ method: string; path: RegExp; literals: number }> | undefined;
  const build = () =>
    routes()
      .filter((r) => r.method !== 'ALL')
      .map((r) => {
        const parts = r.path.split('/');
        const pattern = parts
          .map((part) =>
            part.startsWith(':')
              ? '[^/]+'
              : part === '*'
                ? '.*'
                : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
          )
          .join('/');
        return {
          method: r.method,
          path: new RegExp(`^${pattern}$`),
          literals: parts.filter((p) => p !== '*' && !p.startsWith(':')).length,
        };
      });
  // The methods per path, remembered for the paths asked most recently (a page polls the same few paths).
  const known = new Map<string, Set<string>>();
  const methodsOf = (path: string) => {
    let methods = known.get(path);
    if (methods) return methods;
    table ??= build();
    const matching = table.filter((r) => r.path.test(path));
    const literals = Math.max(...matching.map((r) => r.literals));
    methods = new Set(matching.filter((r) => r.literals === literals).map((r) => r.method));
    if (known.size >= 1000) known.clear();
    known.set(path, methods);
    return methods;
  };
  return async (c, next) => {
    const listed = methodsOf(c.req.path);
    if (listed.size === 0 || listed.has(c.req.method === 'HEAD' ? 'GET' : c.req.method)) return next();
    const methods = new Set(listed); // the remembered set stays as it is
    if (methods.has('GET')) methods.add('HEAD');
    methods.add('OPTIONS');
    const allow = [...methods].sort().join(', ');
    c.header('Allow', allow);
    if (c.req.method === 'OPTIONS') return c.body(null, 204);
    return c.json({ error: `${c.req.method} is not allowed on ${c.req.path}; allowed: ${allow}` }, 405);
  };
}

/** The constraint a Postgres unique violation hit (drizzle wraps the driver's error in `cause`), if it was one. */
export function uniqueViolation(err: unknown): string | undefined {
  for (let e: unknown = err; e && typeof e === 'object'; e = (e as { cause?: unknown }).cause) {
    const pg = e as { code?: string; constraint_name?: string };
    if (pg.code === '23505') return pg.constraint_name ?? 'unique';
  }
  return undefined;
}
