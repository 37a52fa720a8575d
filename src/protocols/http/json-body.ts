import { utf8 } from '../byte-accumulator.js';

export interface JsonBodyFacts {
  jsonKeys: string[];
  /** The nova `os-migrateLive` action's target host (null/absent = scheduler picks). */
  migrateLiveHost?: string;
}

/** Top-level keys of a JSON object body and the nova live-migration target; null if not a JSON object. */
export function jsonBodyFacts(body: Uint8Array): JsonBodyFacts | null {
  let value: unknown;
  try {
    value = JSON.parse(utf8(body));
  } catch {
    return null;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  const obj = value as Record<string, unknown>;
  const facts: JsonBodyFacts = { jsonKeys: Object.keys(obj) };
  const action = obj['os-migrateLive'];
  if (action !== null && typeof action === 'object' && !Array.isArray(action)) {
    const host = (action as Record<string, unknown>)['host'];
    if (typeof host === 'string') facts.migrateLiveHost = host;
  }
  return facts;
}

/** Does this Content-Type announce JSON (application/json, application/*+json)? */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const media = contentType.split(';')[0]!.trim();
  return media === 'application/json' || media.endsWith('+json');
}
