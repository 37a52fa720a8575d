import { execFileSync } from 'node:child_process';

/** tshark's frame.time_epoch ("1795607201.894360000") → picoseconds, without floats. */
export function epochToPicos(text: string): bigint {
  const [sec, frac = ''] = text.trim().split('.');
  return BigInt(sec!) * 1_000_000_000_000n + BigInt((frac + '000000000000').slice(0, 12));
}

export function tsharkAvailable(): boolean {
  try {
    execFileSync('tshark', ['--version'], { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/** Runs tshark -T fields and returns one string[] per packet (tab-separated fields). */
export function tsharkFields(pcap: string, fields: string[], displayFilter?: string, options: string[] = []): string[][] {
  const args = ['-r', pcap, ...options, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  if (displayFilter) args.push('-Y', displayFilter);
  for (const f of fields) args.push('-e', f);
  const out = execFileSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 120_000 });
  return out.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
}
