/**
 * The provisioning HTTP side of the phone edge. Phones of PBX <pbxId> are configured with
 * `http://<host>:<PROVISIONING_PORT>/p/<pbxId>/` and the PBX's provisioning credentials (HTTP basic). They fetch
 * their vendor's files (phones/provisioning/vendors) and the firmware those files name, from
 * `/p/<pbxId>/firmware/<fileName>`. Every request of a known PBX goes to its autoprov.log (R14).
 *
 * Plain node:http rather than Hono: this is a device-facing file server with a handful of paths, and firmware
 * serving needs the raw response to tell a finished download from one the phone aborted.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Db } from '../../db/client.ts';
import {
  approvedFirmwareVersion,
  type EdgePbx,
  type EdgePhone,
  findLocalFirmware,
  findPhoneByMac,
  type LocalFirmwareRow,
  listLocalFirmwareByFileName,
  type PhoneModelRow,
  recordFirmwareFetch,
  recordProvisioningFetch,
} from '../../db/queries/phones.ts';
import { type ParsedUserAgent, parseUserAgent, trustedVersion } from '../../domain/user-agent.ts';
import { compareVersions } from '../../domain/versions.ts';
import type { Logger } from '../../lib/logger.ts';
import type { PbxLogs } from '../../lib/pbx-logs.ts';
import { localFirmwarePath } from '../../lib/store-paths.ts';
import type { EdgeDirectory } from '../edge-directory.ts';
import type { ProvisioningCredentials } from './basic-auth.ts';
import { serveFile } from './file-response.ts';
import {
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
  credentials: ProvisioningCredentials;
  dirs: { firmwareStoreDir: string; imageFirmwareDir: string };
  /** Where phones reach the SIP endpoint (written into their configuration). */
  sipServer: { host: string; port: number };
  /** Public base URL of this server; when absent, taken from the request's Host header. */
  publicUrl?: string | undefined;
  /** A phone's state changed (version, provisioning, firmware fetch): wakes waiting block updates. */
  onPhoneChange(phoneId: number): void;
}

type Outcome = 'served' | '304' | '401' | '404' | '405' | '416' | 'aborted' | 'error';

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

const PATH = /^\/p\/([a-z0-9][a-z0-9-]{0,62})\/(firmware\/)?([^/]+)$/;

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

async function handle(deps: ProvisioningDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = Date.now();
  const ua = req.headers['user-agent'] ?? null;
  const parsed = parseUserAgent(ua);
  const url = new URL(req.url ?? '/', 'http://phone.invalid');
  const m = PATH.exec(url.pathname);
  if (!m) {
    deps.logger.warn({ path: url.pathname, ua }, 'provisioning request outside /p/<pbxId>/');
    res.writeHead(404).end();
    return;
  }
  const pbxId = m[1] as string;
  const isFirmware = Boolean(m[2]);
  let fileName: string;
  try {
    fileName = decodeURIComponent(m[3] as string);
  } catch {
    fileName = m[3] as string;
  }
  const base: Omit<RequestLog, 'outcome' | 'status'> = {
    mac: parsed?.mac ?? null,
    model: parsed ? `${parsed.vendor} ${parsed.uaModel}` : null,
    ua,
    file: isFirmware ? `firmware/${fileName}` : fileName,
  };
  const pbx = await deps.directory.pbx(pbxId);
  if (!pbx) {
    // No PBX, no autoprov.log to write to: the service log records it.
    deps.logger.warn({ pbx: pbxId, ...base, outcome: '404' }, 'provisioning request for an unknown PBX');
    res.writeHead(404).end();
    return;
  }
  const log = (entry: RequestLog) =>
    deps.logs.autoprov(pbxId)[entry.status >= 400 ? 'warn' : 'info']({ ...entry, ms: Date.now() - started });

  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD' }).end();
    log({ ...base, outcome: '405', status: 405 });
    return;
  }
  const verdict = await deps.credentials.check(pbx, req.headers.authorization);
  if (verdict !== 'ok') {
    res.writeHead(401, { 'WWW-Authenticate': `Basic realm="provisioning ${pbxId}", charset="UTF-8"` }).end();
    log({ ...base, outcome: '401', status: 401, detail: `credentials ${verdict}` });
    return;
  }
  if (isFirmware) {
    await serveFirmware(deps, { req, res, pbx, fileName, parsed, ua, log, base });
    return;
  }
  await serveProvisioningFile(deps, { req, res, pbx, fileName, parsed, ua, log, base });
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
    const phone = (await findPhoneByMac(deps.db, s.pbx.id, mac)) ?? null;
    if (!phone) return { reason: `unknown MAC ${mac}` };
    const reading = readings.find((r) => r.convention.vendor === phone.vendor);
    if (!reading) return { reason: `not a file of a ${phone.vendor} phone` };
    return { convention: reading.convention, file: reading.file, phone, model: phone };
  }
  const models = await deps.directory.models();
  for (const r of readings) {
    if (r.file.kind !== 'model') continue;
    const key = r.file.key;
    const candidates = models.filter(
      (mo) => mo.vendor === r.convention.vendor && r.convention.modelKey(mo.provisioningKey) === key,
    );
    if (candidates.length === 0) continue;
    // A model file names no phone; the UA may (all vendors' HTTP User-Agents carry the MAC).
    const byUa = s.parsed?.mac ? ((await findPhoneByMac(deps.db, s.pbx.id, s.parsed.mac)) ?? null) : null;
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

/** R6: what the request tells about the phone; returns the offer that stands after the report. */
async function notePhoneContact(
  deps: ProvisioningDeps,
  s: RequestScope,
  phone: EdgePhone,
): Promise<string | null> {
  const version = trustedVersion(s.parsed, phone);
  await recordProvisioningFetch(deps.db, phone.id, { userAgent: s.ua, version, at: new Date() });
  deps.onPhoneChange(phone.id);
  const target = approvedFirmwareVersion(phone, new Date());
  return target !== null && version !== null && compareVersions(version, target) === 0 ? null : target;
}

async function serveProvisioningFile(deps: ProvisioningDeps, s: RequestScope): Promise<void> {
  const resolved = await resolveFile(deps, s);
  if ('reason' in resolved) {
    s.res.writeHead(404).end();
    s.log({ ...s.base, outcome: '404', status: 404, detail: resolved.reason });
    return;
  }
  const { convention, file, phone, model } = resolved;
  const target = phone ? await notePhoneContact(deps, s, phone) : null;
  const local =
    phone && target ? await findLocalFirmware(deps.db, s.pbx.id, phone.modelId, target) : undefined;
  const ctx: RenderContext = {
    baseUrl: baseUrlOf(deps, s.req, s.pbx.id),
    pbx: { id: s.pbx.id, sipDomain: s.pbx.sipDomain },
    sipServer: deps.sipServer,
    model: { vendor: model.vendor, model: model.model, provisioningKey: model.provisioningKey },
    phone: phone ? { mac: phone.mac, extension: phone.extension, displayName: phone.displayName } : null,
    firmware: local ? { version: local.version, fileName: local.fileName } : null,
  };
  const rendered = convention.render(file, ctx);
  const body = Buffer.from(rendered.body, 'utf8');
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  const logged = {
    ...s.base,
    mac: phone?.mac ?? s.base.mac,
    model: `${model.vendor} ${model.model}`,
    ...(local ? { detail: `offers firmware ${local.version}` } : {}),
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
    'Cache-Control': 'no-cache',
  });
  s.res.end(s.req.method === 'HEAD' ? undefined : body);
  s.log({ ...logged, outcome: 'served', status: 200, bytes: s.req.method === 'HEAD' ? 0 : body.length });
}

/** Of the rows naming this file, the one this phone's offer points at, else its model's newest, else the newest. */
function pickFirmwareRow(rows: LocalFirmwareRow[], phone: EdgePhone | null): LocalFirmwareRow | undefined {
  const newest = (list: LocalFirmwareRow[]) =>
    list.reduce<LocalFirmwareRow | undefined>(
      (best, r) => (best === undefined || compareVersions(r.version, best.version) > 0 ? r : best),
      undefined,
    );
  if (phone) {
    const offered = rows.find(
      (r) => r.modelId === phone.modelId && r.version === phone.firmwareTargetVersion,
    );
    if (offered) return offered;
    const own = newest(rows.filter((r) => r.modelId === phone.modelId));
    if (own) return own;
  }
  return newest(rows);
}

async function serveFirmware(deps: ProvisioningDeps, s: RequestScope): Promise<void> {
  const notFound = (detail: string) => {
    s.res.writeHead(404).end();
    s.log({ ...s.base, outcome: '404', status: 404, detail });
  };
  if (s.fileName.startsWith('.') || /[/\\]/.test(s.fileName)) return notFound('not a plain file name');
  const rows = await listLocalFirmwareByFileName(deps.db, s.pbx.id, s.fileName);
  if (rows.length === 0) return notFound('no local firmware of this PBX has this file name');
  const phone = s.parsed?.mac ? ((await findPhoneByMac(deps.db, s.pbx.id, s.parsed.mac)) ?? null) : null;
  const row = pickFirmwareRow(rows, phone) as LocalFirmwareRow;
  let path: string;
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    path = localFirmwarePath(deps.dirs, row);
    info = await stat(path);
  } catch (err) {
    deps.logger.error({ err, pbx: s.pbx.id, file: s.fileName }, 'local firmware file is missing');
    return notFound('firmware file missing from the store');
  }
  const etag = row.sha256 ? `"${row.sha256}"` : `"${info.size.toString(16)}-${info.mtimeMs.toString(16)}"`;
  const at = () => new Date();
  const logged = {
    ...s.base,
    mac: phone?.mac ?? s.base.mac,
    ...(phone ? { model: `${phone.vendor} ${phone.model}` } : {}),
    version: row.version,
  };
  let fetchStarted: Promise<void> | null = null;
  const served = await serveFile(
    s.req,
    s.res,
    { path, size: info.size, mtime: info.mtime, etag },
    (range) => {
      if (!phone || range.start !== 0) return;
      fetchStarted = recordFirmwareFetch(deps.db, phone.id, {
        phase: 'started',
        file: s.fileName,
        bytes: 0,
        at: at(),
      }).then(() => deps.onPhoneChange(phone.id));
    },
  );
  await fetchStarted;
  const range = served.range ? `${served.range.start}-${served.range.end}/${info.size}` : undefined;
  if (phone && served.range) {
    const complete = !served.aborted && served.range.end === info.size - 1;
    if (served.aborted || (complete && (fetchStarted || served.range.start > 0))) {
      await recordFirmwareFetch(deps.db, phone.id, {
        phase: served.aborted ? 'aborted' : 'completed',
        file: s.fileName,
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
