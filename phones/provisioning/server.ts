/**
 * The provisioning HTTP side of the phone edge. Phones of PBX <pbxId> are configured with
 * `http://<host>:<PROVISIONING_PORT>/p/<pbxId>/` and the PBX's provisioning credentials (HTTP basic). They fetch
 * their vendor's files (phones/provisioning/vendors) and the firmware those files name, from their own path
 * `/p/<pbxId>/firmware/<mac>/<fileName>`, served only while a block approved that phone for that image (R7/R11,
 * findApprovedFirmware). Every request of a known PBX goes to its autoprov.log (R14).
 *
 * What a stranger can learn or cost: a path with bytes no phone sends is a 400; an unknown PBX gets the very
 * answer a known PBX gives a request without valid credentials (401), so PBX ids cannot be enumerated; repeated
 * credential failures from one address are throttled (429) and journalled; the HTTP server has header and
 * request timeouts (phones/edge.ts).
 *
 * Plain node:http rather than Hono: this is a device-facing file server with a handful of paths, and firmware
 * serving needs the raw response to tell a finished download from one the phone aborted.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Db } from '../../db/client.ts';
import { appendJournal } from '../../db/queries/journal.ts';
import type { EdgePbx, EdgePhone, PhoneModelRow } from '../../db/queries/phones.ts';
import {
  matchesModel,
  type ParsedUserAgent,
  parseUserAgent,
  trustedVersion,
} from '../../domain/user-agent.ts';
import type { Logger } from '../../lib/logger.ts';
import type { PbxLogs } from '../../lib/pbx-logs.ts';
import { openSecret } from '../../lib/secrets.ts';
import { localFirmwarePath } from '../../lib/store-paths.ts';
import type { AuthThrottle } from '../auth-throttle.ts';
import type { EdgeDirectory } from '../edge-directory.ts';
import type { EdgeStore } from '../edge-store.ts';
import type { ProvisioningCredentials } from './basic-auth.ts';
import { serveFile } from './file-response.ts';
import {
  conventionOf,
  type RenderContext,
  type RequestedFile,
  recogniseFile,
  type VendorConvention,
} from './vendors/index.ts';

export interface ProvisioningDeps {
  db: Db;
  logs: PbxLogs;
  logger: Logger;
  directory: EdgeDirectory;
  /** Phone lookups and contact records, batched under load. */
  store: EdgeStore;
  credentials: ProvisioningCredentials;
  /** Repeated credential failures per source address (shared with the SIP endpoint's digest failures). */
  throttle: AuthThrottle;
  /** SECRETS_KEY: opens the sealed SIP passwords the files carry. */
  secretsKey: string;
  dirs: { firmwareStoreDir: string; imageFirmwareDir: string };
  /** Where phones reach the SIP endpoint (written into their configuration). */
  sipServer: { host: string; port: number };
  /** Public base URL of this server; when absent, taken from the request's Host header. */
  publicUrl?: string | undefined;
  /** A phone's state changed (version, provisioning, firmware fetch): wakes waiting block updates. */
  onPhoneChange(phoneId: number): void;
}

type Outcome = 'served' | '304' | '400' | '401' | '404' | '405' | '416' | '429' | 'aborted' | 'error';

interface RequestLog {
  mac: string | null;
  model: string | null;
  ua: string | null;
  file: string;
  outcome: Outcome;
  status: number;
  bytes?: number;
  detail?: string;
  range?: string;
  ms?: number;
}

const PATH = /^\/p\/([a-z0-9][a-z0-9-]{0,62})\/(?:firmware\/([0-9a-f]{12})\/)?([^/]+)$/;
/** What a Host header may be when it becomes the base URL of the files (no PROVISIONING_PUBLIC_URL). */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what no phone sends
const BAD_BYTES = /[\u0000-\u001f\u007f]/;

export interface ProvisioningHandler {
  listener: RequestListener;
  /** Resolves once the requests being handled are done (their database writes included). */
  drain(): Promise<void>;
}

export function createProvisioningHandler(deps: ProvisioningDeps): ProvisioningHandler {
  const inFlight = new Set<Promise<void>>();
  return {
    listener(req, res) {
      const p: Promise<void> = handle(deps, req, res)
        .catch((err: unknown) => {
          deps.logger.error({ err, url: req.url }, 'provisioning request failed');
          if (!res.headersSent) res.writeHead(500).end();
          else res.destroy();
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    },
    async drain() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

/** The path as a phone wrote it, decoded; null when it holds bytes or escapes no phone sends. */
function decodedPath(rawUrl: string | undefined): string | null {
  const path = (rawUrl ?? '/').split('?')[0] as string;
  if (!path.startsWith('/') || BAD_BYTES.test(path)) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return null;
  }
  return BAD_BYTES.test(decoded) || decoded.includes('\\') ? null : decoded;
}

function basicChallenge(pbxId: string): Record<string, string> {
  return { 'WWW-Authenticate': `Basic realm="provisioning ${pbxId}", charset="UTF-8"` };
}

async function handle(deps: ProvisioningDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = Date.now();
  const ua = req.headers['user-agent'] ?? null;
  const parsed = parseUserAgent(ua);
  const source = req.socket.remoteAddress ?? 'unknown';
  const path = decodedPath(req.url);
  const hostOk = deps.publicUrl !== undefined || HOST.test(req.headers.host ?? '');
  if (path === null || !hostOk) {
    deps.logger.warn(
      { url: req.url?.slice(0, 200), host: req.headers.host, ua, source },
      'bad provisioning request',
    );
    res.writeHead(400).end();
    return;
  }
  const m = PATH.exec(path);
  if (!m) {
    deps.logger.warn({ path: path.slice(0, 200), ua }, 'provisioning request outside /p/<pbxId>/');
    res.writeHead(404).end();
    return;
  }
  const pbxId = m[1] as string;
  const firmwareOf = m[2] ?? null;
  const fileName = m[3] as string;
  const base: Omit<RequestLog, 'outcome' | 'status'> = {
    mac: parsed?.mac ?? null,
    model: parsed ? `${parsed.vendor} ${parsed.uaModel}` : null,
    ua,
    file: firmwareOf ? `firmware/${firmwareOf}/${fileName}` : fileName,
  };
  const pbx = await deps.directory.pbx(pbxId);
  const log = (entry: RequestLog) => {
    const line = { ...entry, ms: Date.now() - started };
    // No PBX, no autoprov.log to write to: the service log records it.
    if (pbx) deps.logs.autoprov(pbxId)[entry.status >= 400 ? 'warn' : 'info'](line);
    else deps.logger.warn({ pbx: pbxId, source, ...line }, 'provisioning request for an unknown PBX');
  };
  const retryAfterMs = deps.throttle.retryAfterMs(source);
  if (retryAfterMs > 0) {
    res.writeHead(429, { 'Retry-After': String(Math.ceil(retryAfterMs / 1000)) }).end();
    log({ ...base, outcome: '429', status: 429, detail: `too many credential failures from ${source}` });
    return;
  }
  // An unknown PBX answers exactly like a known one asked without valid credentials: no tenant enumeration.
  const verdict = pbx ? await deps.credentials.check(pbx, req.headers.authorization) : 'unknown-pbx';
  if (verdict !== 'ok') {
    res.writeHead(401, basicChallenge(pbxId)).end();
    log({ ...base, outcome: '401', status: 401, detail: `credentials ${verdict}` });
    if (verdict !== 'missing' && req.headers.authorization !== undefined) {
      await noteCredentialFailure(deps, source, pbx ?? null, pbxId);
    }
    return;
  }
  deps.throttle.succeeded(source);
  const known = pbx as EdgePbx;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    log({ ...base, outcome: '405', status: 405 });
    return;
  }
  const scope: RequestScope = { req, res, pbx: known, fileName, parsed, ua, log, base };
  if (firmwareOf) {
    await serveFirmware(deps, scope, firmwareOf);
    return;
  }
  await serveProvisioningFile(deps, scope);
}

/** Counts a credential failure of this address; the one that starts its throttle goes to the journal (R14). */
async function noteCredentialFailure(
  deps: ProvisioningDeps,
  source: string,
  pbx: EdgePbx | null,
  pbxId: string,
): Promise<void> {
  const { throttledNow, failures } = deps.throttle.failed(source);
  if (!throttledNow) return;
  deps.logger.warn({ source, pbx: pbxId, failures }, 'provisioning credential failures: address throttled');
  if (!pbx) return;
  await appendJournal(deps.db, deps.logs, {
    pbxId: pbx.id,
    action: 'provisioning.auth-throttled',
    why: 'system',
    who: 'system',
    details: { source, failures, path: 'provisioning' },
  });
}

interface RequestScope {
  req: IncomingMessage;
  res: ServerResponse;
  pbx: EdgePbx;
  fileName: string;
  parsed: ParsedUserAgent | null;
  ua: string | null;
  log(entry: RequestLog): void;
  base: Omit<RequestLog, 'outcome' | 'status'>;
}

function baseUrlOf(deps: ProvisioningDeps, req: IncomingMessage, pbxId: string): string {
  const root = deps.publicUrl ?? `http://${req.headers.host ?? '127.0.0.1'}`;
  return `${root.replace(/\/$/, '')}/p/${pbxId}/`;
}

/** Picks the vendor reading of the file and the phone it is for; null with a reason when there is none. */
async function resolveFile(
  deps: ProvisioningDeps,
  s: RequestScope,
): Promise<
  | {
      convention: VendorConvention;
      file: RequestedFile;
      phone: EdgePhone | null;
      model: { vendor: string; model: string; provisioningKey: string };
    }
  | { reason: string }
> {
  const readings = recogniseFile(s.fileName);
  if (readings.length === 0) return { reason: 'not a provisioning file of any vendor' };
  const first = readings[0] as (typeof readings)[number];
  if (first.file.kind === 'phone') {
    const mac = first.file.mac;
    const phone = (await deps.store.phoneByMac(s.pbx.id, mac)) ?? null;
    if (!phone) return { reason: `unknown MAC ${mac}` };
    const reading = readings.find((r) => r.convention.vendor === phone.vendor);
    if (!reading) return { reason: `not a file of a ${phone.vendor} phone` };
    return { convention: reading.convention, file: reading.file, phone, model: phone };
  }
  const cached = await deps.directory.models();
  const keys = readings.flatMap((r) =>
    r.file.kind === 'model' ? [{ convention: r.convention, key: r.file.key }] : [],
  );
  const knows = (list: PhoneModelRow[]) =>
    keys.some(({ convention, key }) =>
      list.some((mo) => mo.vendor === convention.vendor && convention.modelKey(mo.provisioningKey) === key),
    );
  const models = knows(cached) ? cached : await deps.directory.models({ fresh: true });
  for (const r of readings) {
    if (r.file.kind !== 'model') continue;
    const key = r.file.key;
    const candidates = models.filter(
      (mo) => mo.vendor === r.convention.vendor && r.convention.modelKey(mo.provisioningKey) === key,
    );
    if (candidates.length === 0) continue;
    // A model file names no phone; the UA may (all vendors' HTTP User-Agents carry the MAC).
    const byUa = s.parsed?.mac ? ((await deps.store.phoneByMac(s.pbx.id, s.parsed.mac)) ?? null) : null;
    const phone = byUa && candidates.some((c) => c.id === byUa.modelId) ? byUa : null;
    return {
      convention: r.convention,
      file: r.file,
      phone,
      model: phone ?? (candidates[0] as PhoneModelRow),
    };
  }
  return { reason: 'no model of the catalog uses this file' };
}

/** R6: what the request tells about the phone; the approval that stands after the report (null = none). */
async function notePhoneContact(deps: ProvisioningDeps, s: RequestScope, phone: EdgePhone) {
  const version = trustedVersion(s.parsed, phone);
  // The approval that stands after the report: reporting the approved version ends it (one statement).
  const approved = await deps.store.recordProvisioningFetch(phone.id, {
    userAgent: s.ua,
    version,
    at: new Date(),
  });
  deps.onPhoneChange(phone.id);
  return approved ?? null;
}

/** The phone's SIP password for its files; null (and a logged reason) when it cannot be had. */
function sipPasswordOf(
  deps: ProvisioningDeps,
  phone: EdgePhone,
): { password: string | null; problem?: string } {
  if (phone.sipPasswordSealed === null) {
    return { password: null, problem: 'account has no stored SIP password (created before they were kept)' };
  }
  try {
    return { password: openSecret(phone.sipPasswordSealed, deps.secretsKey) };
  } catch {
    deps.logger.error({ pbx: phone.pbxId, phoneId: phone.id }, 'SIP password does not open with SECRETS_KEY');
    return { password: null, problem: 'SIP password does not open with SECRETS_KEY' };
  }
}

async function serveProvisioningFile(deps: ProvisioningDeps, s: RequestScope): Promise<void> {
  const resolved = await resolveFile(deps, s);
  if ('reason' in resolved) {
    s.res.writeHead(404).end();
    s.log({ ...s.base, outcome: '404', status: 404, detail: resolved.reason });
    return;
  }
  const { convention, file, phone, model } = resolved;
  const approved = phone ? await notePhoneContact(deps, s, phone) : null;
  const secret = phone ? sipPasswordOf(deps, phone) : null;
  const ctx: RenderContext = {
    baseUrl: baseUrlOf(deps, s.req, s.pbx.id),
    pbx: { id: s.pbx.id, name: s.pbx.name, sipDomain: s.pbx.sipDomain },
    sipServer: deps.sipServer,
    model: { vendor: model.vendor, model: model.model, provisioningKey: model.provisioningKey },
    phone: phone
      ? {
          mac: phone.mac,
          extension: phone.extension,
          displayName: phone.displayName,
          sipPassword: secret?.password ?? null,
        }
      : null,
    firmware: approved ? { version: approved.version, fileName: approved.fileName } : null,
  };
  const rendered = convention.render(file, ctx);
  const body = Buffer.from(rendered.body, 'utf8');
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  const details = [approved ? `offers firmware ${approved.version}` : null, secret?.problem ?? null].filter(
    (d) => d !== null,
  );
  const logged = {
    ...s.base,
    mac: phone?.mac ?? s.base.mac,
    model: `${model.vendor} ${model.model}`,
    ...(details.length ? { detail: details.join('; ') } : {}),
  };
  if (s.req.headers['if-none-match'] === etag) {
    s.res.writeHead(304, { ETag: etag }).end();
    s.log({ ...logged, outcome: '304', status: 304 });
    return;
  }
  s.res.writeHead(200, {
    'Content-Type': rendered.contentType,
    'Content-Length': body.length,
    ETag: etag,
    'Cache-Control': 'no-store',
  });
  s.res.end(s.req.method === 'HEAD' ? undefined : body);
  s.log({ ...logged, outcome: 'served', status: 200, bytes: s.req.method === 'HEAD' ? 0 : body.length });
}

/**
 * `/firmware/<mac>/<name>`: the image the phone with this MAC is approved for right now, under its stored file
 * name or a name the device itself asks for (Grandstream's fixed `ht802fw.bin`). Anything else is a 404: no
 * approval, another phone's User-Agent, another name.
 */
async function serveFirmware(deps: ProvisioningDeps, s: RequestScope, mac: string): Promise<void> {
  const notFound = (detail: string) => {
    s.res.writeHead(404).end();
    s.log({ ...s.base, outcome: '404', status: 404, detail });
  };
  const phone = await deps.store.phoneByMac(s.pbx.id, mac);
  if (!phone) return notFound(`unknown MAC ${mac}`);
  if (s.parsed?.mac && s.parsed.mac !== phone.mac) {
    return notFound(`requested by ${s.parsed.mac}, not by the phone ${phone.mac}`);
  }
  if (!s.parsed || !matchesModel(s.parsed, phone)) {
    return notFound(`User-Agent is not a ${phone.vendor} ${phone.model}`);
  }
  const row = await deps.store.approvedFirmware(phone.id);
  if (!row) return notFound('no rollout approves a firmware for this phone now');
  const deviceNames = conventionOf(phone.vendor)?.deviceImageNames?.(phone.model) ?? [];
  if (s.fileName !== row.fileName && !deviceNames.includes(s.fileName.toLowerCase())) {
    return notFound(`the approved firmware is ${row.fileName}, not ${s.fileName}`);
  }
  let path: string;
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    path = localFirmwarePath(deps.dirs, row);
    info = await stat(path);
  } catch (err) {
    deps.logger.error({ err, pbx: s.pbx.id, file: row.fileName }, 'local firmware file is missing');
    return notFound('firmware file missing from the store');
  }
  const etag = row.sha256 ? `"${row.sha256}"` : `"${info.size.toString(16)}-${info.mtimeMs.toString(16)}"`;
  const at = () => new Date();
  const logged = { ...s.base, mac: phone.mac, model: `${phone.vendor} ${phone.model}`, version: row.version };
  let fetchStarted: Promise<void> | null = null;
  const served = await serveFile(
    s.req,
    s.res,
    { path, size: info.size, mtime: info.mtime, etag },
    (range) => {
      if (range.start !== 0) return;
      fetchStarted = deps.store
        .recordFirmwareFetch(phone.id, {
          phase: 'started',
          file: row.fileName,
          bytes: 0,
          at: at(),
        })
        .then(() => deps.onPhoneChange(phone.id));
    },
  );
  await fetchStarted;
  const range = served.range ? `${served.range.start}-${served.range.end}/${info.size}` : undefined;
  if (served.range) {
    const complete = !served.aborted && served.range.end === info.size - 1;
    if (served.aborted || (complete && (fetchStarted || served.range.start > 0))) {
      await deps.store.recordFirmwareFetch(phone.id, {
        phase: served.aborted ? 'aborted' : 'completed',
        file: row.fileName,
        bytes: served.bytes,
        at: at(),
      });
      deps.onPhoneChange(phone.id);
    }
  }
  const outcome: Outcome =
    served.status === 304 ? '304' : served.status === 416 ? '416' : served.aborted ? 'aborted' : 'served';
  s.log({ ...logged, outcome, status: served.status, bytes: served.bytes, ...(range ? { range } : {}) });
}
