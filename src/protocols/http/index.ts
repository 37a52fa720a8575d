import type { FlowInfo } from '../../decode/types.js';
import type { Emit, ProtocolAnalyzer, StreamDecoder } from '../types.js';
import { HttpStreamDecoder } from './decode.js';

export { HttpStreamDecoder } from './decode.js';
export { HTTP_LIMITS } from './types.js';

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE'];
const METHOD_PREFIXES = METHODS.map((m) => new TextEncoder().encode(`${m} `));

/** Does `bytes` start with a request line's method and a target ("GET /", "POST http://")? */
export function looksLikeHttpRequest(bytes: Uint8Array): boolean {
  for (const prefix of METHOD_PREFIXES) {
    if (bytes.length < prefix.length + 1) continue;
    let match = true;
    for (let i = 0; i < prefix.length && match; i++) match = bytes[i] === prefix[i];
    if (!match) continue;
    const first = bytes[prefix.length]!;
    // origin-form "/", absolute-form "h(ttp)", asterisk-form "*", authority-form (CONNECT) any host char
    return first === 0x2f || first === 0x2a || (first >= 0x21 && first < 0x7f);
  }
  return false;
}

/** Keystone 5000/35357, nova-api 8774, neutron 9696, plain web ports. */
export const httpAnalyzer: ProtocolAnalyzer = {
  name: 'http',
  ports: [5000, 35357, 8774, 9696, 80, 8080],
  probe(firstClientBytes: Uint8Array, _flow: FlowInfo): boolean {
    return looksLikeHttpRequest(firstClientBytes);
  },
  create(flow: FlowInfo, emit: Emit): StreamDecoder {
    return new HttpStreamDecoder(flow, emit);
  },
};
