import type { FlowInfo } from '../../decode/types.js';
import type { Emit, ProtocolAnalyzer, StreamDecoder } from '../types.js';
import { AmqpStreamDecoder } from './decode.js';
import { PROTOCOL_HEADER } from './types.js';

export { AmqpStreamDecoder } from './decode.js';
export { decodeOsloBody } from './oslo.js';
export { AMQP_LIMITS } from './types.js';

/** RabbitMQ on 5672; recognised anywhere by the client's "AMQP\0\0\x09\x01" header. */
export const amqpAnalyzer: ProtocolAnalyzer = {
  name: 'amqp',
  ports: [5672],
  probe(firstClientBytes: Uint8Array, _flow: FlowInfo): boolean {
    if (firstClientBytes.length < PROTOCOL_HEADER.length) return false;
    for (let i = 0; i < PROTOCOL_HEADER.length; i++) if (firstClientBytes[i] !== PROTOCOL_HEADER[i]) return false;
    return true;
  },
  create(flow: FlowInfo, emit: Emit): StreamDecoder {
    return new AmqpStreamDecoder(flow, emit);
  },
};
