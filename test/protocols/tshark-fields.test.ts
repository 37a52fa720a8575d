/**
 * Every decoded message of the protocols tshark knows, field by field, against
 * `tshark -T fields` on the same generated pcaps (both scenarios, two migrations each):
 * HTTP (method, URI, status, the request a response answers), AMQP basic.publish /
 * basic.deliver (method, exchange, routing key, content body size), libvirt RPC
 * (program, procedure, type, serial, status), RARP (announced MAC) and ICMP echo
 * (type, id, seq), each with the wire time of the frame tshark shows it in. tshark is
 * the independent decoder here: its own TCP reassembly, its own dissectors. The QEMU stream has no tshark dissector
 * (test/real/qemu-migration.test.ts compares it with QEMU's own figures instead).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTrace, type GenerateOptions } from '../../src/generate/index.js';
import { createCaptureWriter, fileSink } from '../../src/ingest/formats/index.js';
import type { ProtocolMessage } from '../../src/protocols/types.js';
import { decodeCaptureFile } from '../real/harness/decode-capture.js';
import { epochToPicos } from '../real/harness/tshark.js';

const ci = process.env.CI === 'true';
const hasTshark = spawnSync('tshark', ['-v'], { stdio: 'ignore' }).status === 0;
const hasLibvirt = hasTshark && spawnSync('sh', ['-c', 'tshark -G fields 2>/dev/null | grep -q "libvirt.procedure"']).status === 0;
if (!hasLibvirt && !ci) console.warn('skipping decoded fields vs tshark: tshark with libvirt-wireshark not installed');

/** The services on the generator's ports, whatever tshark's port tables say. */
const DECODE_AS = ['-d', 'tcp.port==5000,http', '-d', 'tcp.port==8774,http', '-d', 'tcp.port==5672,amqp', '-d', 'tcp.port==16509,libvirt'];
const SEP = '|';

/** One row per frame matching `filter`; every field is the list of its occurrences. */
function fields(pcap: string, filter: string, names: string[]): { ts: bigint; f: string[][] }[] {
  const args = ['-r', pcap, ...DECODE_AS, '-Y', filter, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', `aggregator=${SEP}`, '-e', 'frame.time_epoch'];
  for (const n of names) args.push('-e', n);
  const out = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 28, timeout: 120_000 });
  return out.split('\n').filter((l) => l !== '').map((l) => {
    const [t, ...rest] = l.split('\t');
    return { ts: epochToPicos(t!), f: rest.map((v) => (v === '' ? [] : v.split(SEP))) };
  });
}

const byTs = <T extends { ts: bigint }>(a: T, b: T): number => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0);

/** HTTP: tshark shows a message in the frame that completes it (our tsEnd). */
function tsharkHttp(pcap: string): string[] {
  return fields(pcap, 'http.request || http.response', ['http.request.method', 'http.request.uri', 'http.response.code', 'http.response_for.uri'])
    .map(({ ts, f: [method, uri, code, forUri] }) => (method!.length > 0
      ? `${ts} request ${method[0]} ${uri![0]}`
      : `${ts} response ${code![0]} for ${new URL(forUri![0]!).pathname}`));
}
function oursHttp(msgs: ProtocolMessage[]): string[] {
  return msgs.flatMap((m) => (m.protocol !== 'http' ? [] : m.kind === 'request'
    ? [{ ts: m.tsEnd, s: `${m.tsEnd} request ${m.method} ${m.path}` }]
    : [{ ts: m.tsEnd, s: `${m.tsEnd} response ${m.status} for ${m.requestPath}` }])).sort(byTs).map((x) => x.s);
}

/** AMQP methods without exchange / routing-key arguments that the traces carry. */
const NO_ROUTING_ARGS = new Set(['10/10', '10/11', '10/20', '10/21', '10/30', '10/31', '10/40', '10/41', '10/50', '10/51',
  '20/10', '20/11', '20/40', '20/41', '50/10', '50/11', '60/10', '60/11', '60/20', '60/21', '60/80']);
/**
 * AMQP, walking tshark's AMQP frames in wire order: a publish/deliver method frame (its
 * frame's time = our ts: the method frame opens the message), its content header (body
 * size), and the frame holding its body's end (our tsEnd).
 */
function tsharkAmqp(pcap: string): string[] {
  const rows = fields(pcap, 'amqp', ['amqp.type', 'amqp.method.class', 'amqp.method.method', 'amqp.method.arguments.exchange',
    'amqp.method.arguments.routing_key', 'amqp.header.body-size']);
  const out: { ts: bigint; head: string; size?: number; end?: bigint }[] = [];
  let open: (typeof out)[number] | undefined;
  for (const { ts, f } of rows) {
    const [types, classes, methods, exchanges, keys, sizes] = f.map((v) => [...v]) as string[][];
    for (const type of types!) {
      if (type === '1') {
        const id = `${classes!.shift()}/${methods!.shift()}`;
        if (id === '60/40' || id === '60/60') {
          // A lone empty value (the default exchange) prints as an empty column.
          open = { ts, head: `${id === '60/40' ? 'publish' : 'deliver'} ${exchanges!.shift() ?? ''} ${keys!.shift() ?? ''}` };
          out.push(open);
        } else {
          expect(NO_ROUTING_ARGS.has(id), `AMQP method ${id}: does it carry an exchange or routing key?`).toBe(true);
        }
      } else if (type === '2') {
        open!.size = Number(sizes!.shift());
        if (open!.size === 0) open!.end = ts;
      } else if (type === '3') {
        open!.end = ts;
      }
    }
    expect([classes, methods, exchanges, keys, sizes].every((l) => l!.length === 0), `AMQP fields left over at ${ts}`).toBe(true);
  }
  return out.map((m) => `${m.ts} ${m.head} body ${m.size} end ${m.end}`);
}
function oursAmqp(msgs: ProtocolMessage[]): string[] {
  return msgs.flatMap((m) => (m.protocol === 'amqp'
    ? [{ ts: m.ts, s: `${m.ts} ${m.kind} ${m.exchange} ${m.routingKey} body ${m.bodySize} end ${m.tsEnd}` }] : []))
    .sort(byTs).map((x) => x.s);
}

const LIBVIRT_TYPE: Record<string, number> = { call: 0, reply: 1, message: 2, stream: 3, 'call-with-fds': 4, 'reply-with-fds': 5, 'stream-hole': 6 };
const LIBVIRT_STATUS: Record<string, number> = { ok: 0, error: 1, continue: 2 };
/** libvirt: several PDUs may complete in one frame; tshark lists them in order. */
function tsharkLibvirt(pcap: string): string[] {
  return fields(pcap, 'libvirt', ['libvirt.program', 'libvirt.procedure', 'libvirt.type', 'libvirt.serial', 'libvirt.status'])
    .flatMap(({ ts, f }) => f[0]!.map((_, i) => `${ts} ${f.map((c) => Number(c[i])).join(' ')}`));
}
function oursLibvirt(msgs: ProtocolMessage[]): string[] {
  return msgs.flatMap((m) => (m.protocol === 'libvirt'
    ? [`${m.tsEnd} ${m.program} ${m.procedure} ${LIBVIRT_TYPE[m.kind]} ${m.serial} ${LIBVIRT_STATUS[m.status]}`] : []));
}

function tsharkIcmp(pcap: string): string[] {
  return fields(pcap, 'icmp.type == 0 || icmp.type == 8', ['ip.src', 'ip.dst', 'icmp.type', 'icmp.ident', 'icmp.seq'])
    .map(({ ts, f }) => `${ts} ${f.map((c) => c[0]).join(' ')}`);
}
function oursIcmp(msgs: ProtocolMessage[]): string[] {
  return msgs.flatMap((m) => (m.protocol === 'icmp'
    ? [`${m.ts} ${m.src.ip} ${m.dst.ip} ${m.kind === 'echo-reply' ? 0 : 8} ${m.id} ${m.seq}`] : []));
}

/** RARP (what QEMU sends when the VM resumes): op 3, the announced MAC is the target's. */
function tsharkRarp(pcap: string): string[] {
  return fields(pcap, 'arp.opcode == 3', ['arp.dst.hw_mac', 'arp.src.proto_ipv4', 'arp.dst.proto_ipv4'])
    .map(({ ts, f }) => `${ts} rarp ${f.map((c) => c[0]).join(' ')}`);
}
function oursRarp(msgs: ProtocolMessage[]): string[] {
  return msgs.flatMap((m) => (m.protocol === 'arp' && m.kind === 'rarp' ? [`${m.ts} rarp ${m.mac} ${m.src.ip} ${m.dst.ip}`] : []));
}

const work = mkdtempSync(join(tmpdir(), 'migscope-tshark-fields-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe.runIf(hasLibvirt || ci)('decoded fields vs tshark -T fields, message by message, on generated pcaps', () => {
  const cases: { scenario: 'kvm' | 'openstack'; opts: Partial<GenerateOptions> }[] = [
    { scenario: 'kvm', opts: { seed: 5, flavor: 2, load: 75 } },
    { scenario: 'openstack', opts: { seed: 9, flavor: 3, load: 25 } },
  ];
  for (const { scenario, opts } of cases) {
    describe(scenario, () => {
      const pcap = join(work, `${scenario}.pcap`);
      let msgs: ProtocolMessage[] = [];
      beforeAll(async () => {
        const w = createCaptureWriter('pcap-ns', fileSink(pcap));
        generateTrace({ scenario, runs: 2, payloadScale: 0.002, ...opts }, w);
        await w.close();
        msgs = await decodeCaptureFile(pcap);
        expect(msgs.filter((m) => m.protocol === 'anomaly')).toEqual([]);
      }, 60_000);

      it('HTTP: method, URI, status and the request each response answers', () => {
        const t = tsharkHttp(pcap);
        expect(oursHttp(msgs)).toEqual(t);
        // Keystone token, GET /servers/{id}, os-migrateLive: request and response each.
        expect(t.length).toBe(scenario === 'openstack' ? 12 : 0);
      });

      it('AMQP: publish/deliver, exchange, routing key, content body size, first and last frame', () => {
        const t = tsharkAmqp(pcap);
        expect(oursAmqp(msgs)).toEqual(t);
        if (scenario === 'openstack') expect(t.length).toBeGreaterThanOrEqual(14);
        else expect(t).toEqual([]);
      });

      it('libvirt: program, procedure, type, serial, status, completing frame', () => {
        const t = tsharkLibvirt(pcap);
        expect(oursLibvirt(msgs)).toEqual(t);
        expect(t.length).toBeGreaterThanOrEqual(2 * 28);
      });

      it("RARP: the resumed VM's MAC, frame time", () => {
        const t = tsharkRarp(pcap);
        expect(oursRarp(msgs)).toEqual(t);
        expect(t.length).toBeGreaterThanOrEqual(2);
      });

      it('ICMP echo: type, id, seq, addresses, frame time', () => {
        const t = tsharkIcmp(pcap);
        expect(oursIcmp(msgs)).toEqual(t);
        expect(t.length).toBeGreaterThan(1000);
      });
    });
  }
});
