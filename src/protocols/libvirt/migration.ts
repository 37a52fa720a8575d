import type { LibvirtMigrationInfo } from '../types.js';
import { remoteProc } from './programs.js';
import { COOKIE_MAX, PARAM_DEST_NAME, PARAM_DEST_XML, PARAM_URI, STRING_MAX } from './types.js';
import { XdrReader } from './xdr.js';

/** The migration procedures whose bodies we decode (REMOTE program). */
export const MigrationProc = {
  begin3: remoteProc('DOMAIN_MIGRATE_BEGIN3'),
  prepare3: remoteProc('DOMAIN_MIGRATE_PREPARE3'),
  prepareTunnel3: remoteProc('DOMAIN_MIGRATE_PREPARE_TUNNEL3'),
  perform3: remoteProc('DOMAIN_MIGRATE_PERFORM3'),
  finish3: remoteProc('DOMAIN_MIGRATE_FINISH3'),
  confirm3: remoteProc('DOMAIN_MIGRATE_CONFIRM3'),
  begin3Params: remoteProc('DOMAIN_MIGRATE_BEGIN3_PARAMS'),
  prepare3Params: remoteProc('DOMAIN_MIGRATE_PREPARE3_PARAMS'),
  prepareTunnel3Params: remoteProc('DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS'),
  perform3Params: remoteProc('DOMAIN_MIGRATE_PERFORM3_PARAMS'),
  finish3Params: remoteProc('DOMAIN_MIGRATE_FINISH3_PARAMS'),
  confirm3Params: remoteProc('DOMAIN_MIGRATE_CONFIRM3_PARAMS'),
  /** virDomainGetJobStats: a management client polling a running migration. */
  getJobStats: remoteProc('DOMAIN_GET_JOB_STATS'),
} as const;
/** VIR_DOMAIN_JOB_AUTO_CONVERGE_THROTTLE: the source vCPUs' throttle (percent). */
const PARAM_AUTO_CONVERGE_THROTTLE = 'auto_converge_throttle';

const MIGRATION_PROCS = new Set<number>(Object.values(MigrationProc));
export function isMigrationProc(proc: number): boolean {
  return MIGRATION_PROCS.has(proc);
}

const REMOTE_DOMAIN_MIGRATE_PARAM_LIST_MAX = 64;
const latin1 = new TextDecoder('latin1');

/**
 * `<tag>text</tag>` (the first `<tag>` whose text contains no `<`), trimmed, without a
 * full parser. A hand-written scan rather than a regex: the XML comes from the wire, and
 * `\s*([^<]*?)\s*` backtracks quadratically on long runs of blanks. Each character is
 * looked at a bounded number of times (every search resumes where the last one stopped).
 */
export function xmlText(xml: string, tag: string): string | undefined {
  const open = `<${tag}>`;
  const close = `</${tag}>`;
  let from = 0;
  for (;;) {
    const start = xml.indexOf(open, from);
    if (start < 0) return undefined;
    const textStart = start + open.length;
    const lt = xml.indexOf('<', textStart);
    if (lt < 0) return undefined;
    // String.prototype.trim removes exactly the characters `\s` matches.
    if (xml.startsWith(close, lt)) return xml.slice(textStart, lt).trim();
    from = lt;
  }
}

function fromDomainXml(xml: string | undefined, info: LibvirtMigrationInfo): void {
  if (!xml) return;
  info.domainName ??= xmlText(xml, 'name');
  info.domainUuid ??= xmlText(xml, 'uuid');
}

/** The `<qemu-migration>` cookie: domain name/uuid and the sending host. */
function fromCookie(cookie: Uint8Array, info: LibvirtMigrationInfo): void {
  if (cookie.length === 0) return;
  const xml = latin1.decode(cookie.subarray(0, Math.min(cookie.length, 64 * 1024)));
  if (!xml.includes('<qemu-migration')) return;
  info.domainName ??= xmlText(xml, 'name');
  info.domainUuid ??= xmlText(xml, 'uuid');
  info.hostname ??= xmlText(xml, 'hostname');
  info.hostUuid ??= xmlText(xml, 'hostuuid');
}

function uuidText(b: Uint8Array): string {
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** remote_nonnull_domain: name, uuid[16], id. */
function domain(r: XdrReader, info: LibvirtMigrationInfo): void {
  const name = r.string(STRING_MAX);
  const uuid = r.fixedOpaque(16);
  r.i32();
  if (r.failed) return;
  info.domainName ??= name;
  info.domainUuid ??= uuidText(uuid);
}

/** remote_typed_param params<>: picks out the migration parameters we report. */
function typedParams(r: XdrReader, info: LibvirtMigrationInfo): void {
  const n = r.u32();
  if (n > REMOTE_DOMAIN_MIGRATE_PARAM_LIST_MAX) { r.failed = true; return; }
  for (let i = 0; i < n && !r.failed; i++) {
    const field = r.string(STRING_MAX);
    const type = r.i32();
    switch (type) {
      case 1: case 2: case 6: { // int, uint, boolean
        const v = r.u32();
        if (field === PARAM_AUTO_CONVERGE_THROTTLE && type === 1) info.autoConvergeThrottle = v | 0;
        break;
      }
      case 3: case 4: case 5: r.u64(); break; // llong, ullong, double
      case 7: {
        const s = r.string(STRING_MAX);
        if (field === PARAM_DEST_NAME) info.domainName ??= s;
        else if (field === PARAM_DEST_XML) fromDomainXml(s, info);
        else if (field === PARAM_URI) info.migrateUri ??= s;
        break;
      }
      default: r.failed = true;
    }
  }
}

/**
 * Decodes what a migration call or reply body tells us (remote_protocol.x structs).
 * Returns undefined when the body does not parse as that struct.
 */
export function decodeMigrationBody(proc: number, isReply: boolean, body: Uint8Array): LibvirtMigrationInfo | undefined {
  const r = new XdrReader(body);
  const info: LibvirtMigrationInfo = {};
  const P = MigrationProc;
  if (!isReply) {
    switch (proc) {
      case P.begin3Params: typedParams(r, info); break;
      case P.prepare3Params: case P.prepareTunnel3Params: case P.finish3Params:
        typedParams(r, info); fromCookie(r.opaque(COOKIE_MAX), info); break;
      case P.perform3Params: case P.confirm3Params:
        domain(r, info);
        if (proc === P.perform3Params) r.optionalString(STRING_MAX);
        typedParams(r, info); fromCookie(r.opaque(COOKIE_MAX), info); break;
      case P.begin3: domain(r, info); fromDomainXml(r.optionalString(STRING_MAX), info); break;
      case P.prepare3: case P.prepareTunnel3: {
        fromCookie(r.opaque(COOKIE_MAX), info);
        if (proc === P.prepare3) { const uri = r.optionalString(STRING_MAX); if (uri) info.migrateUri = uri; }
        r.u64();
        const dname = r.optionalString(STRING_MAX);
        r.u64();
        fromDomainXml(r.string(STRING_MAX), info);
        if (dname) info.domainName = dname;
        break;
      }
      case P.perform3: domain(r, info); r.optionalString(STRING_MAX); fromCookie(r.opaque(COOKIE_MAX), info); break;
      case P.finish3: info.domainName = r.string(STRING_MAX); fromCookie(r.opaque(COOKIE_MAX), info); break;
      case P.confirm3: domain(r, info); fromCookie(r.opaque(COOKIE_MAX), info); break;
      case P.getJobStats: domain(r, info); break;
      default: return undefined;
    }
  } else {
    switch (proc) {
      case P.begin3Params: case P.begin3:
        fromCookie(r.opaque(COOKIE_MAX), info); fromDomainXml(r.string(STRING_MAX), info); break;
      case P.prepare3Params: case P.prepare3: {
        fromCookie(r.opaque(COOKIE_MAX), info);
        const uri = r.optionalString(STRING_MAX);
        if (uri !== undefined) info.migrateUri = uri;
        break;
      }
      case P.finish3Params: case P.finish3: domain(r, info); fromCookie(r.opaque(COOKIE_MAX), info); break;
      case P.perform3Params: case P.perform3: case P.prepareTunnel3Params: case P.prepareTunnel3:
        fromCookie(r.opaque(COOKIE_MAX), info); break;
      case P.getJobStats: r.i32(); typedParams(r, info); break; // int type; params<>
      default: return undefined;
    }
  }
  return r.failed ? undefined : info;
}

/** remote_error: `int code; int domain; remote_string message; …`. */
export function decodeRemoteError(body: Uint8Array): { code: number; message: string } | undefined {
  const r = new XdrReader(body);
  const code = r.i32();
  r.i32();
  const message = r.optionalString(STRING_MAX) ?? '';
  return r.failed ? undefined : { code, message };
}
