import { UsageError } from '../../core/errors.js';
import type { HostRoles } from '../../phases/engine.js';
import { parseHostsOption } from '../../phases/roles.js';
import type { AnalyzeOptions } from '../../pipeline/analyze.js';
import type { OutputStream } from '../../output/stream.js';
import { numberOption } from '../command.js';

/** Options shared by analyze / decode / watch. */
export const sourceOptions = {
  filter: { type: 'string' },
  workers: { type: 'string' },
  capture: { type: 'string' },
  'max-memory': { type: 'string' },
  hosts: { type: 'string' },
  label: { type: 'string', multiple: true },
  'downtime-limit': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const SOURCE_HELP = `SOURCE is a capture file (pcap, pcapng or DPMI, optionally gzip-compressed; the
format is detected from its magic bytes; 'pcap:', 'pcapng:', 'dpmi:' prefixes are
accepted), or a live source 'iface:NAME' / 'dpmi-iface:NAME[/MAMPID]'.
  --workers N            decode in N worker threads fed by the native capture ring
                         (live sources always are, default 2; a pcap/pcapng file
                         only with this option, else the pure-TS path)
  --filter BPF           libpcap filter for live sources and --workers files
  --capture PATH         live iface: 'auto' (default: AF_PACKET rings read in place
                         by the workers, libpcap where AF_PACKET is unavailable),
                         'af-packet' (never fall back) or 'pcap' (libpcap)
  --hosts IP,IP[,controller=IP]   (or source=IP,destination=IP,controller=IP)
                         the hypervisors (default: inferred from the traffic);
                         which is the source is found per migration, so both
                         directions are live from the first SYN
  --label k=v            copied onto every migration-started event (repeatable)
  --max-memory SIZE      bound on per-connection state (flows, out-of-order bytes,
                         decoder buffers), e.g. 256M or 1G (default 256M; split
                         between --workers); past it the least recently useful
                         state is dropped and counted as a memory-shed anomaly
  --downtime-limit MS    the hypervisor's maximum downtime, which the convergence
                         verdict assumes (default 300, QEMU's default)`;

/** `--max-memory`: bytes, or a number with a K/M/G suffix (binary units). */
export function parseMemorySize(text: string): number {
  const m = /^([0-9]{1,12}(?:\.[0-9]{1,6})?)([KMG]?)i?B?$/i.exec(text.trim());
  const unit = m ? ({ '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 } as Record<string, number>)[m[2]!.toUpperCase()]! : 0;
  const n = m ? Math.floor(Number(m[1]) * unit) : NaN;
  if (!(n >= 16 * 1024 * 1024 && n <= 1024 ** 4)) {
    throw new UsageError(`--max-memory must be a size from 16M to 1024G, e.g. 256M (got '${text}')`);
  }
  return n;
}

/** --filter, --workers, --capture and --max-memory, checked, as analyzeSources options. */
export function captureOptions(values: {
  filter?: string | undefined; workers?: string | undefined; 'max-memory'?: string | undefined; 'downtime-limit'?: string | undefined;
  capture?: string | undefined;
}): Pick<AnalyzeOptions, 'filter' | 'workers' | 'maxMemory' | 'downtimeLimitMs' | 'capture'> {
  const out: Pick<AnalyzeOptions, 'filter' | 'workers' | 'maxMemory' | 'downtimeLimitMs' | 'capture'> = {};
  if (values.capture !== undefined) {
    if (values.capture !== 'auto' && values.capture !== 'af-packet' && values.capture !== 'pcap') {
      throw new UsageError(`--capture must be auto, af-packet or pcap (got '${values.capture}')`);
    }
    out.capture = values.capture;
  }
  if (values['downtime-limit'] !== undefined) out.downtimeLimitMs = numberOption(values['downtime-limit'], 'downtime-limit', 0.001, 600_000, 300);
  if (values['max-memory'] !== undefined) out.maxMemory = parseMemorySize(values['max-memory']);
  if (values.filter !== undefined) out.filter = values.filter;
  if (values.workers !== undefined) {
    const n = numberOption(values.workers, 'workers', 1, 64, 2);
    if (!Number.isInteger(n)) throw new UsageError(`--workers must be a whole number (got '${values.workers}')`);
    out.workers = n;
  }
  return out;
}

export function parseLabels(values: string[] | undefined): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const v of values ?? []) {
    const i = v.indexOf('=');
    if (i <= 0) throw new UsageError(`--label expects k=v (got '${v}')`);
    labels[v.slice(0, i)] = v.slice(i + 1);
  }
  return labels;
}

export function parseHosts(value: string | undefined): HostRoles {
  return value === undefined ? {} : parseHostsOption(value);
}

export function requireSources(positionals: string[], usage: string): string[] {
  if (positionals.length === 0) throw new UsageError(`no SOURCE given (usage: ${usage})`);
  return positionals;
}

/**
 * What the run needs to know of its output: stop when the output failed (disk full, the
 * reader went away), wait when it is slow (backpressure instead of a growing heap).
 * `signal` (e.g. SIGINT) is combined with the output's own.
 */
export function outputOptions(out: OutputStream, signal?: AbortSignal): Pick<AnalyzeOptions, 'signal' | 'backpressure'> {
  return { signal: signal ? AbortSignal.any([signal, out.signal]) : out.signal, backpressure: () => out.ready() };
}
