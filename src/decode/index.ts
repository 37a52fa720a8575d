/**
 * Packet decoding: the Dissector (packets → protocol messages) and the pure, allocation-
 * free header parsers it is built from (for the native/worker lanes).
 */
export { Dissector, type DissectorOptions } from './dissector.js';
export type { DissectorStats } from './stats.js';
export { PacketView, EtherType, IpProto, TcpFlag, type ParseError } from './packet-view.js';
export { parsePacket } from './parse.js';
export { parseLink, parseEthernet, parseSll, parseSll2, parseRawIp, parseNull } from './link.js';
export { parseIpv4, parseIpv6, formatIpv4, formatIpv6, formatSrcIp, formatDstIp } from './ip.js';
export { parseTcp, parseUdp } from './transport.js';
export { symmetricHash, FlowTable, FlowEntry } from './flow-table.js';
export { StreamReassembler, type ReassemblySink, type BufferBudget } from './reassembly.js';
export type { Flow } from './flow.js';
export type { Direction, Endpoint, FlowInfo, Transport } from './types.js';
