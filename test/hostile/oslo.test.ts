/**
 * A deeply nested oslo `failure` (JSON.stringify overflows its stack on it) must not
 * take the AMQP connection down: every later message is decoded, no false TCP hole.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as amqp from '../../src/generate/wire/amqp.js';
import { ndjson, runCli, tcpConversationPcap, tempDir } from './craft-files.js';

const enc = new TextEncoder();
/** oslo's 2.0 envelope around a reply whose inner JSON text is given as is. */
const reply = (innerJson: string): Uint8Array => enc.encode(`{"oslo.version": "2.0", "oslo.message": ${JSON.stringify(innerJson)}}`);

describe('oslo failure nested beyond any stack', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('decodes the failure as bounded text and every message after it', async () => {
    const depth = 200_000;
    const nested = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const deliver = (tag: number, body: Uint8Array): Uint8Array => amqp.basicDeliver(1, 'reply-tag', BigInt(tag), '', 'reply_q', body);
    const client = [
      [0, amqp.PROTOCOL_HEADER], [2, amqp.connectionStartOk('u', 'p')], [4, amqp.concatBytes([amqp.connectionTuneOk(60), amqp.connectionOpen('/')])],
      [6, amqp.channelOpen(1)], [8, amqp.basicConsume(1, 'reply_q', 'reply-tag')],
    ] as const;
    const server = [
      [1, amqp.connectionStart()], [3, amqp.connectionTune(60)], [5, amqp.connectionOpenOk()], [7, amqp.channelOpenOk(1)],
      [9, amqp.basicConsumeOk(1, 'reply-tag')],
      [10, deliver(1, reply('{"result": 1, "failure": null, "ending": true, "_msg_id": "m1"}'))],
      [11, deliver(2, reply(`{"result": null, "failure": ${nested}, "ending": true, "_msg_id": "m2"}`))],
      ...[3, 4, 5].map((i) => [10 + i, deliver(i, reply(`{"result": ${i}, "failure": null, "ending": true, "_msg_id": "m${i}"}`))] as const),
    ] as const;
    const file = join(tmp.dir, 'oslo.pcap');
    writeFileSync(file, tcpConversationPcap(5672, client, server));
    const r = await runCli(['decode', file]);
    expect(r.code, r.stderr).toBe(0);
    const messages = ndjson(r.stdout);
    const replies = messages.filter((m) => m.protocol === 'amqp' && (m.oslo as { isReply?: boolean } | undefined)?.isReply);
    expect(replies.map((m) => (m.oslo as { msgId: string }).msgId)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5']);
    const failure = (replies[1]!.oslo as { failure: string }).failure;
    expect(failure).toBe('['.repeat(256));
    expect(messages.filter((m) => m.protocol === 'anomaly')).toEqual([]);
  });
});
