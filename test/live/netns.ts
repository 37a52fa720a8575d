import { spawnSync } from 'node:child_process';

/** Runs a command, throwing with its stderr when it fails (bounded by a timeout). */
export function sh(cmd: string, args: string[], timeoutMs = 30_000): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}${r.error?.message ?? ''}`);
  return r.stdout;
}

export interface VethPair {
  /** Namespace and interface that send (tcpreplay) … */
  txNs: string;
  txIf: string;
  /** …and the ones the capture listens on. */
  rxNs: string;
  rxIf: string;
  remove(): void;
}

/**
 * Two fresh network namespaces joined by a veth pair: offloads off (so frames stay as
 * replayed), IPv6 off (no router solicitations or MLD in the capture), MTU 9000.
 */
export function createVethPair(tag: string): VethPair {
  const p: VethPair = {
    txNs: `mgs-${tag}-tx`, rxNs: `mgs-${tag}-rx`, txIf: `mgs${tag}t`, rxIf: `mgs${tag}r`,
    remove: () => {
      spawnSync('ip', ['netns', 'del', p.txNs], { timeout: 10_000 });
      spawnSync('ip', ['netns', 'del', p.rxNs], { timeout: 10_000 });
    },
  };
  p.remove(); // leftovers of an interrupted run
  try {
    sh('ip', ['netns', 'add', p.txNs]);
    sh('ip', ['netns', 'add', p.rxNs]);
    sh('ip', ['link', 'add', p.txIf, 'netns', p.txNs, 'type', 'veth', 'peer', 'name', p.rxIf, 'netns', p.rxNs]);
    for (const [ns, ifc] of [[p.txNs, p.txIf], [p.rxNs, p.rxIf]] as const) {
      sh('ip', ['netns', 'exec', ns, 'sysctl', '-qw', `net.ipv6.conf.${ifc}.disable_ipv6=1`]);
      sh('ip', ['-n', ns, 'link', 'set', ifc, 'mtu', '9000']);
      sh('ip', ['netns', 'exec', ns, 'ethtool', '-K', ifc, 'tso', 'off', 'gso', 'off', 'gro', 'off', 'tx', 'off', 'rx', 'off']);
      sh('ip', ['-n', ns, 'link', 'set', ifc, 'up']);
    }
  } catch (e) {
    p.remove();
    throw e;
  }
  return p;
}

/** tcpreplay at full speed from the sending namespace. */
export function replay(pair: VethPair, file: string): string {
  return sh('ip', ['netns', 'exec', pair.txNs, 'tcpreplay', '-q', '-i', pair.txIf, '--topspeed', file], 60_000);
}
