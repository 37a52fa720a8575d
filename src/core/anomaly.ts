import type { MessageBase } from './message.js';

/**
 * Anomalies: anything dropped, cut or unparsable, at any stage of the data flow
 * (capture, file records, packets, TCP streams, protocol decoders). They travel in the
 * protocol-message stream so that every loss is counted and reported.
 */
export type AnomalyKind =
  | 'capture-drop'        // kernel / libpcap drops (pcap_stats)
  | 'ring-drop'           // our ring was full
  | 'frame-loss'          // DPMI sequence gap
  | 'malformed-record'    // file record that could not be read
  | 'truncated-file'
  | 'malformed-packet'    // bad L2–L4 header
  | 'ip-fragment'         // fragments are counted, not reassembled
  | 'tcp-hole'            // bytes never seen in a TCP stream
  | 'tcp-overlap'         // retransmitted bytes that disagree with what we had
  | 'flow-memory'         // reassembly buffer bound hit
  | 'memory-shed'         // state dropped to stay within --max-memory (the reason names what)
  | 'protocol-error'      // a decoder could not parse its protocol
  | 'unknown-protocol';
export interface Anomaly extends MessageBase {
  protocol: 'anomaly';
  kind: AnomalyKind;
  count: number;
  reason: string;
}
