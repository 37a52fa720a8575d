import type { AnomalyDef, AnomalyFields } from '../../src/core/anomaly.js';
import { PacketAnomaly } from '../../src/decode/anomaly-codes.js';
import { DissectAnomaly } from '../../src/dissect/anomaly-codes.js';
import { CaptureAnomaly } from '../../src/ingest/anomaly-codes.js';
import { PhaseAnomaly } from '../../src/phases/anomaly-codes.js';
import { AmqpAnomaly } from '../../src/protocols/amqp/anomaly-codes.js';
import { HttpAnomaly } from '../../src/protocols/http/anomaly-codes.js';
import { LibvirtAnomaly } from '../../src/protocols/libvirt/anomaly-codes.js';
import { QemuAnomaly } from '../../src/protocols/qemu/anomaly-codes.js';

/** Every code table of src/, with the source file that declares it (docs/anomalies.md lists them in this order). */
export const CODE_TABLES: readonly { file: string; table: Readonly<Record<string, AnomalyDef>> }[] = [
  { file: 'src/ingest/anomaly-codes.ts', table: CaptureAnomaly },
  { file: 'src/decode/anomaly-codes.ts', table: PacketAnomaly },
  { file: 'src/dissect/anomaly-codes.ts', table: DissectAnomaly },
  { file: 'src/protocols/libvirt/anomaly-codes.ts', table: LibvirtAnomaly },
  { file: 'src/protocols/qemu/anomaly-codes.ts', table: QemuAnomaly },
  { file: 'src/protocols/http/anomaly-codes.ts', table: HttpAnomaly },
  { file: 'src/protocols/amqp/anomaly-codes.ts', table: AmqpAnomaly },
  { file: 'src/phases/anomaly-codes.ts', table: PhaseAnomaly },
];

export const ALL_CODES: ReadonlyMap<string, AnomalyDef> = new Map(
  CODE_TABLES.flatMap(({ table }) => Object.values(table).map((d) => [d.code, d] as const)),
);

/** Why an anomaly message breaks its code's contract (unknown code, other kind or text, fields not declared), or null. */
export function contractViolation(a: { code: string; kind: string; reason: string; fields?: AnomalyFields }): string | null {
  const def = ALL_CODES.get(a.code);
  if (def === undefined) return `unknown code ${a.code}`;
  if (def.kind !== a.kind) return `${a.code}: kind ${a.kind}, declared ${def.kind}`;
  if (def.text !== a.reason) return `${a.code}: reason "${a.reason}", declared "${def.text}"`;
  const keys = Object.keys(a.fields ?? {}).sort().join(',');
  if (keys !== [...def.fields].sort().join(',')) return `${a.code}: fields {${keys}}, declared [${def.fields.join(',')}]`;
  return null;
}
