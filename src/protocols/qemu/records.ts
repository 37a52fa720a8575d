import type { Problem } from '../../core/anomaly.js';
import { QemuAnomaly } from './anomaly-codes.js';
import { readAscii, u32 } from './bytes.js';
import { MAX_COMMAND, QemuRecord } from './types.js';

/**
 * Is buf[p] (a 0x7e byte inside opaque device state) the footer of section `id`?
 * Device data can contain any byte, so a candidate counts only when the record after
 * it is plausible: a section header with a printable idstr, a known section's
 * PART/END, or EOF followed by a VMDESCRIPTION holding JSON.
 */
export function validFooterAt(
  b: Uint8Array, p: number, end: number, id: number, sections: ReadonlyMap<number, unknown>,
): 'yes' | 'no' | 'need' {
  if (end - p < 6) return 'need';
  if (u32(b, p + 1) !== id) return 'no';
  const t = b[p + 5]!;
  const q = p + 6;
  switch (t) {
    case QemuRecord.SectionFull:
    case QemuRecord.SectionStart: {
      if (end - q < 5) return 'need';
      const len = b[q + 4]!;
      if (len === 0 || u32(b, q) > 0xffff) return 'no';
      if (end - q < 5 + len) return 'need';
      return readAscii(b, q + 5, len) === undefined ? 'no' : 'yes';
    }
    case QemuRecord.SectionPart:
    case QemuRecord.SectionEnd:
      if (end - q < 4) return 'need';
      return sections.has(u32(b, q)) ? 'yes' : 'no';
    case QemuRecord.Command: {
      // u16 command, u16 length: post-copy's commands follow device state in its package.
      if (end - q < 5) return 'need';
      const cmd = (b[q]! << 8) | b[q + 1]!;
      return cmd >= 1 && cmd <= MAX_COMMAND ? 'yes' : 'no';
    }
    case QemuRecord.Eof: {
      if (end - q < 6) return 'need';
      if (b[q] !== QemuRecord.VmDescription) return 'no';
      const len = u32(b, q + 1);
      return len > 0 && b[q + 5] === 0x7b /* '{' */ ? 'yes' : 'no';
    }
    default:
      return 'no';
  }
}

export interface ConfigSubsection {
  consumed: number;
  /** configuration/target-page-bits: log2 of the target page size. */
  pageBits?: number;
}

/**
 * A subsection of the CONFIGURATION record (savevm.c vmstate_configuration):
 * `0x05, u8 len, idstr, u32 version_id`, then its fields. Returns 'need' when
 * incomplete, or the problem.
 */
export function parseConfigSubsection(b: Uint8Array, p: number, end: number): ConfigSubsection | 'need' | Problem {
  if (end - p < 2) return 'need';
  const len = b[p + 1]!;
  let q = p + 2 + len + 4;
  if (end < q) return 'need';
  const idstr = readAscii(b, p + 2, len) ?? '';
  switch (idstr) {
    case 'configuration/target-page-bits': {
      if (end < q + 4) return 'need';
      const bits = u32(b, q);
      if (bits < 9 || bits > 16) return { def: QemuAnomaly.BAD_PAGE_BITS, fields: { bits } };
      return { consumed: q + 4 - p, pageBits: bits };
    }
    case 'configuration/capabilities': {
      if (end < q + 4) return 'need';
      const count = u32(b, q);
      if (count > 64) return { def: QemuAnomaly.TOO_MANY_CAPABILITIES, fields: { count } };
      q += 4;
      for (let i = 0; i < count; i++) {
        if (end < q + 1) return 'need';
        q += 1 + b[q]!;
        if (end < q) return 'need';
      }
      return { consumed: q - p };
    }
    case 'configuration/uuid':
      if (end < q + 16) return 'need';
      return { consumed: q + 16 - p };
    default:
      return { def: QemuAnomaly.UNKNOWN_CONFIG_SUBSECTION };
  }
}
