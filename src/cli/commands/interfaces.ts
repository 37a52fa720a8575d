import { listCaptureDevices, type CaptureDevice } from '../../ingest/live/devices.js';
import { parseCommandArgs, type Command } from '../command.js';

const HELP = `usage: migscope interfaces [--json] [--all]

The capture devices libpcap can open here (in this network namespace), with their
addresses: the NAME for 'iface:NAME' and 'dpmi-iface:NAME'. Listing needs no
privilege; capturing needs CAP_NET_RAW (or root).
  --all    also list pseudo-devices without a network (bluetooth, D-Bus, netfilter)
  --json   one JSON object per device, one per line`;

/** Interfaces first, in libpcap's order (it puts up and running ones first), then `any`. */
function shown(devices: CaptureDevice[], all: boolean): CaptureDevice[] {
  return all ? devices : devices.filter((d) => d.description === undefined || d.name === 'any');
}

function formatTable(devices: CaptureDevice[]): string {
  if (devices.length === 0) return 'no capture devices visible\n';
  const width = Math.max(...devices.map((d) => d.name.length));
  const lines = devices.map((d) => {
    const addrs = d.addresses.map((a) => (a.netmask !== undefined ? `${a.addr}/${prefixLength(a.netmask)}` : a.addr));
    const notes = [d.loopback ? 'loopback' : '', d.description ?? ''].filter((s) => s !== '');
    const rest = [addrs.join(' '), notes.length > 0 ? `(${notes.join(', ')})` : ''].filter((s) => s !== '').join('  ');
    return `${d.name.padEnd(width)}  ${rest}`.trimEnd();
  });
  return `${lines.join('\n')}\n`;
}

/** 255.255.255.0 → 24, ffff:ffff:ffff:ffff:: → 64; anything odd is shown as given. */
export function prefixLength(netmask: string): string {
  let bits = 0;
  if (netmask.includes('.')) {
    for (const part of netmask.split('.')) bits += popcount(Number(part));
  } else {
    for (const group of netmask.split(':')) if (group !== '') bits += popcount(parseInt(group, 16));
  }
  return Number.isNaN(bits) ? netmask : String(bits);
}

function popcount(n: number): number {
  let c = 0;
  for (let v = n; v > 0; v >>>= 1) c += v & 1;
  return c;
}

export const command: Command = {
  summary: 'capture devices and their addresses (names for iface:NAME)',
  async run(argv) {
    const { values } = parseCommandArgs(argv, {
      json: { type: 'boolean' },
      all: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    }, false);
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return 0;
    }
    const devices = shown(listCaptureDevices(), values.all === true);
    process.stdout.write(values.json ? devices.map((d) => `${JSON.stringify(d)}\n`).join('') : formatTable(devices));
    return 0;
  },
};
