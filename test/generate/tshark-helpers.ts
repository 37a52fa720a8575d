import { execFileSync, spawnSync } from 'node:child_process';

export const hasTshark = spawnSync('tshark', ['-v'], { stdio: 'ignore' }).status === 0;

/** tshark -T fields rows (tab-split), with checksum validation on. */
export function tsharkFields(file: string, filter: string, fields: string[], extra: string[] = []): string[][] {
  const args = ['-r', file, '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', ...extra, '-Y', filter, '-T', 'fields'];
  for (const f of fields) args.push('-e', f);
  const out = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 28 });
  return out.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t'));
}

export function tsharkExpert(file: string): string {
  return execFileSync('tshark', ['-r', file, '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-q', '-z', 'expert'], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 26,
  });
}

/** "1795000000.300925000" (epoch seconds, 9 decimals) → picoseconds. */
export function epochToPicos(s: string): bigint {
  const [sec, frac = ''] = s.split('.');
  return BigInt(sec!) * 1_000_000_000_000n + BigInt(frac.padEnd(12, '0').slice(0, 12));
}
