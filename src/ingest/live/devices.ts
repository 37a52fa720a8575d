import { createRequire } from 'node:module';
import { CaptureError } from '../../core/errors.js';

/**
 * Capture devices as libpcap sees them (pcap_findalldevs), through the `cap` package:
 * it already wraps the call, so the capture addon need not. Listing devices needs no
 * privilege, which lets an error about a missing interface name the ones that exist
 * even when the capture itself was refused.
 */
export interface DeviceAddress {
  addr: string;
  netmask?: string;
  broadaddr?: string;
  dstaddr?: string;
}

export interface CaptureDevice {
  name: string;
  /** libpcap's description: set for pseudo-devices (any, nflog, dbus-…), not for NICs. */
  description?: string;
  addresses: DeviceAddress[];
  loopback: boolean;
}

interface CapDevice {
  name: string;
  description?: string;
  addresses?: DeviceAddress[];
  flags?: string;
}
interface CapModule {
  Cap: { deviceList(): CapDevice[] };
}

let capModule: CapModule | undefined;

function loadCap(): CapModule {
  if (capModule) return capModule;
  try {
    capModule = createRequire(import.meta.url)('cap') as CapModule;
  } catch (e) {
    throw new CaptureError(`the 'cap' package is not installed or not built (needs libpcap-dev): ${e instanceof Error ? e.message : String(e)}`);
  }
  return capModule;
}

/** Every device libpcap can open in this process's network namespace. */
export function listCaptureDevices(): CaptureDevice[] {
  return loadCap().Cap.deviceList().map((d) => {
    const dev: CaptureDevice = {
      name: d.name,
      addresses: (d.addresses ?? []).map((a) => ({ ...a })),
      loopback: (d.flags ?? '').includes('PCAP_IF_LOOPBACK'),
    };
    if (d.description !== undefined) dev.description = d.description;
    return dev;
  });
}

/**
 * Names for an error message: interfaces first, then `any`; the other pseudo-devices
 * (bluetooth, D-Bus, netfilter queues) carry no migration traffic and are left out.
 * Undefined when the list itself cannot be had (the error then says less, not wrong).
 */
export function availableInterfaceNames(): string[] | undefined {
  try {
    const devs = listCaptureDevices();
    return [...devs.filter((d) => d.description === undefined), ...devs.filter((d) => d.name === 'any')].map((d) => d.name);
  } catch {
    return undefined;
  }
}
