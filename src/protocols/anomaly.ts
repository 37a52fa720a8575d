import { anomalyMessage, type Anomaly, type AnomalyDef, type AnomalyFields } from '../core/anomaly.js';
import type { Picos } from '../core/time.js';
import type { Direction, FlowInfo } from '../decode/types.js';

/**
 * How a stream decoder reports: a code from its folder's table, the numbers of this
 * occurrence, and the endpoints of the direction it happened in.
 */
export function streamAnomaly(
  flow: FlowInfo, dir: Direction, def: AnomalyDef, ts: Picos, fields?: AnomalyFields,
): Anomaly {
  const c2s = dir === 'c2s';
  return anomalyMessage(def, 1, ts, ts, flow.id, c2s ? flow.client : flow.server, c2s ? flow.server : flow.client, fields);
}
