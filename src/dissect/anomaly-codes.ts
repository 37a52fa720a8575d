import { anomalyDef } from '../core/anomaly.js';

/**
 * Dissector anomaly codes (stable: docs/anomalies.md): TCP reassembly, the flow table,
 * protocol choice. A tcp-hole anomaly counts bytes, the others count occurrences.
 */
export const DissectAnomaly = {
  TCP_HOLE_SNAPLEN: anomalyDef('TCP_HOLE_SNAPLEN', 'tcp-hole', 'bytes cut by the capture snaplen'),
  TCP_HOLE_LOST: anomalyDef('TCP_HOLE_LOST', 'tcp-hole', 'segment never captured (peer acknowledged past it)'),
  TCP_HOLE_BUFFER_BOUND: anomalyDef('TCP_HOLE_BUFFER_BOUND', 'tcp-hole', 'bytes skipped when the out-of-order buffer bound was passed'),
  TCP_HOLE_AT_END: anomalyDef('TCP_HOLE_AT_END', 'tcp-hole', 'segment missing at connection end'),
  TCP_HOLE_MEMORY_SHED: anomalyDef('TCP_HOLE_MEMORY_SHED', 'tcp-hole', 'out-of-order bytes dropped to stay within --max-memory'),
  TCP_OVERLAP_MISMATCH: anomalyDef('TCP_OVERLAP_MISMATCH', 'tcp-overlap', 'retransmission disagrees with earlier data'),
  TCP_BUFFER_BOUND: anomalyDef('TCP_BUFFER_BOUND', 'flow-memory', 'out-of-order buffer bound passed: skipped ahead'),
  FLOW_EVICTED: anomalyDef('FLOW_EVICTED', 'flow-memory', 'flow table full: least recently used flow evicted'),
  MEMORY_SHED_BUFFERS: anomalyDef('MEMORY_SHED_BUFFERS', 'memory-shed', 'out-of-order bytes of this connection dropped (--max-memory reached)'),
  MEMORY_SHED_FLOW: anomalyDef('MEMORY_SHED_FLOW', 'memory-shed', 'least recently used connection forgotten (--max-memory reached)'),
  FLOW_UNKNOWN_PROTOCOL: anomalyDef('FLOW_UNKNOWN_PROTOCOL', 'unknown-protocol', 'no analyzer matched the server port or the first client bytes'),
  FLOW_DECODER_THREW: anomalyDef('FLOW_DECODER_THREW', 'protocol-error', 'decoder threw: flow no longer decoded'),
  IP_FRAGMENT: anomalyDef('IP_FRAGMENT', 'ip-fragment', 'IP fragment (not reassembled)'),
  DISSECTOR_INTERNAL: anomalyDef('DISSECTOR_INTERNAL', 'malformed-packet', 'dissector internal error on this packet'),
} as const;
