import { epochToPicos, tsharkFields } from './tshark.js';

export interface RpcSeen { proc: number; type: number; status: number; fromClient: boolean; ts: bigint }

/**
 * The libvirt RPC messages of a TLS connection (port 16514), read by tshark with the
 * session secrets GnuTLS logged (SSLKEYLOGFILE): tshark decrypts the records, this
 * reads the 28-byte RPC headers from the decrypted bytes of each direction. A message's
 * time is that of the packet carrying its first byte (as for plaintext RPC): the
 * first segment of the record that holds it.
 */
export function rpcFromDecryptedTls(pcap: string, keylog: string): RpcSeen[] {
  const rows = tsharkFields(pcap, [
    'frame.number', 'frame.time_epoch', 'tcp.srcport', 'tls.record.content_type', 'data.data', 'tcp.segment',
  ], 'tcp.port==16514', ['-o', `tls.keylog_file:${keylog}`, '-d', 'tcp.port==16514,tls', '-d', 'tls.port==16514,data']);
  const tsOfFrame = new Map(rows.map((r) => [Number(r[0]), epochToPicos(r[1]!)]));
  // Decrypted bytes per direction, each byte range with the time of its record's first packet.
  const dirs = { c2s: { bytes: [] as number[], starts: [] as { at: number; ts: bigint }[] }, s2c: { bytes: [] as number[], starts: [] as { at: number; ts: bigint }[] } };
  for (const r of rows) {
    const data = (r[4] ?? '').split(',').filter(Boolean);
    if (data.length === 0) continue;
    const d = r[2] === '16514' ? dirs.s2c : dirs.c2s;
    const segments = (r[5] ?? '').split(',').filter(Boolean).map(Number);
    const frameTs = tsOfFrame.get(Number(r[0]))!;
    data.forEach((hex, i) => {
      // Only the frame's first record can have begun in earlier segments.
      const ts = i === 0 && segments.length > 0 ? tsOfFrame.get(Math.min(...segments))! : frameTs;
      d.starts.push({ at: d.bytes.length, ts });
      for (let j = 0; j < hex.length; j += 2) d.bytes.push(parseInt(hex.slice(j, j + 2), 16));
    });
  }
  const out: RpcSeen[] = [];
  for (const [name, d] of Object.entries(dirs)) {
    let p = 0;
    // The server's first byte is libvirt's certificate check byte (1), not a message.
    if (name === 's2c' && d.bytes[0] === 1) p = 1;
    const u32 = (o: number): number => ((d.bytes[o]! << 24) | (d.bytes[o + 1]! << 16) | (d.bytes[o + 2]! << 8) | d.bytes[o + 3]!) >>> 0;
    for (let n = 0; n < 100_000 && p + 28 <= d.bytes.length; n++) {
      const len = u32(p);
      if (len < 28) break;
      let ts = d.starts[0]!.ts;
      for (const s of d.starts) if (s.at <= p) ts = s.ts;
      out.push({ proc: u32(p + 12), type: u32(p + 16), status: u32(p + 24), fromClient: name === 'c2s', ts });
      p += len;
    }
  }
  return out.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
}
