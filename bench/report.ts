import { formatLiveResult } from './live.js';
import type { TargetVerdict, BenchResults } from './types.js';

const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : '—');
/** Peak private / file-backed resident memory (sampled; — when no sample caught the run). */
const rssSplit = (x: { peakAnonBytes: number; peakFileBytes: number }): string =>
  (x.peakAnonBytes > 0 ? `${fmt(x.peakAnonBytes / 2 ** 20, 0)} / ${fmt(x.peakFileBytes / 2 ** 20, 0)}` : '—');
const ratio = (n: number, bound = false): string => (Number.isFinite(n) ? `${bound ? '≥ ' : ''}${n.toFixed(n < 10 ? 2 : 1)}×` : '—');

/** How far a missed target is from its goal: the factor still needed (— when met or unknown). */
function shortfall(v: TargetVerdict): string {
  if (v.met !== false || !Number.isFinite(v.measured) || v.measured <= 0) return '—';
  const factor = v.goal > v.measured ? v.goal / v.measured : v.measured / v.goal;
  return `${factor.toFixed(2)}× short`;
}

/** The Markdown of one bench run: one table per trace, ratios against migscope, targets. */
export function renderMarkdown(r: BenchResults): string {
  const out: string[] = [
    `# migscope benchmark (${r.mode}, ${r.when})`, '',
    `${r.machine.cpus} × ${r.machine.cpuModel}, node ${r.machine.node}, best of ${r.repeat} run(s) per subject (one when over 60 s), `
      + `files in the page cache; load average ${fmt(r.machine.loadavg.before)} before, ${fmt(r.machine.loadavg.after)} after `
      + '(above the core count: other jobs shared the machine and stretched every wall time).', '',
    ...(r.baseline ? [`"baseline …" rows: the build in ${r.baseline}, measured in this same run (before/after a change).`, ''] : []),
    '*vs TS* = the subject\'s wall time ÷ migscope pure-TS wall time on the same file; *vs best* = ÷ the fastest',
    'migscope path\'s. Above 1: migscope is that many times faster; below 1: the subject is. Mpkt/s and Gbit/s',
    'are the trace\'s packets and captured bits ÷ wall time (for cat and tcpdump: the rate at which they went',
    'through the same file). *CPU s* = user + system time of all its threads (above wall: it used both cores;',
    'well below wall: it waited, e.g. for a busy machine); *CPU vs TS* = CPU s ÷ migscope pure-TS CPU s (the work',
    'each needs, steadier than wall time on a shared machine). *anon / file* = peak private memory (RssAnon) and peak',
    'file-backed pages (RssFile: a capture mapping, shared page cache) of the process, sampled every 20 ms; *peak RSS*',
    '(GNU time) counts both. *counted* = packets the subject reported processing',
    '(— = it reports none; then only its exit code shows it read the whole file).', '',
  ];
  for (const t of r.traces) {
    out.push(`## ${t.name}: ${(t.fileBytes / 1e9).toFixed(2)} GB file, ${t.packets} packets, ${fmt(t.wireSeconds, 1)} s of wire time`, '');
    out.push('| subject | wall s | CPU s | Mpkt/s | Gbit/s | vs TS | vs best | CPU vs TS | peak RSS MiB | anon / file MiB | exit | counted |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const x of r.runs.filter((y) => y.trace === t.name)) {
      const counted = x.packetsCounted === null ? '—' : String(x.packetsCounted);
      out.push(`| ${x.subject}${x.problem ? ` ⚠ ${x.problem}` : ''} | ${x.lowerBound ? '> ' : ''}${fmt(x.wallSeconds, 3)} | ${fmt(x.cpuSeconds)} | ${x.lowerBound ? '< ' : ''}${fmt(x.packetsPerSecond / 1e6, 3)} | ${x.lowerBound ? '< ' : ''}${fmt(x.gbitPerSecond)} | `
        + `${ratio(x.timeRatioToMigscope, x.lowerBound)} | ${ratio(x.timeRatioToBestMigscope, x.lowerBound)} | ${ratio(x.cpuRatioToMigscope)} | ${fmt(x.maxRssBytes / 2 ** 20, 0)} | ${rssSplit(x)} | ${x.exitCode} | ${counted} |`);
    }
    out.push('');
  }
  const d = r.dissector;
  out.push(`Dissector alone (in-process, synthetic ${d.flows}-flow bulk TCP, no I/O, no phase engine): `
    + `${fmt(d.packetsPerSecond / 1e6, 3)} Mpkt/s, ${fmt(d.gbitPerSecond)} Gbit/s on one core.`, '');
  if (r.nats) {
    const n = r.nats;
    out.push(`## Measurement points over NATS (${n.trace})`, '',
      `One agent → NATS JetStream (nats-server on loopback, file store) → aggregator: ${n.messages} protocol messages `
      + `(${n.records} records) in ${fmt(n.natsSeconds, 2)} s = ${fmt(n.natsMessagesPerSecond / 1e3, 1)} k messages/s; the same `
      + `records in-process (MeasurementPoint → Aggregation): ${fmt(n.inProcessSeconds, 2)} s = ${fmt(n.inProcessMessagesPerSecond / 1e3, 1)} k/s. `
      + `NATS path ÷ in-process wall time: ${fmt(n.ratio, 2)}.`, '');
  } else if (r.natsSkipped) out.push(`Measurement points over NATS: skipped (${r.natsSkipped}).`, '');
  if (r.latency) {
    const l = r.latency;
    out.push(`## Event latency (${l.trace}, ${l.speed}× wire-speed replay through Dissector → PhaseEngine, ${l.events} phase events)`, '');
    out.push('| measure | p50 µs | p99 µs | max µs |', '| --- | ---: | ---: | ---: |');
    out.push(`| marker packet handed over → event | ${fmt(l.processing.p50, 1)} | ${fmt(l.processing.p99, 1)} | ${fmt(l.processing.max, 1)} |`);
    out.push(`| marker wire time → event | ${fmt(l.schedule.p50, 1)} | ${fmt(l.schedule.p99, 1)} | ${fmt(l.schedule.max, 1)} |`, '');
  }
  if (r.live) out.push('## Live capture on a veth (tcpreplay, drop-free search)', '', formatLiveResult(r.live), '');
  else if (r.liveSkipped !== undefined) out.push(`Live capture not measured: ${r.liveSkipped}.`, '');
  out.push('## Targets (issues #7, #12)', '', '| target | measured | met | shortfall | how |', '| --- | ---: | :---: | ---: | --- |');
  for (const v of r.targets) {
    const met = v.met === null ? 'n/a' : v.met ? 'yes' : 'no';
    out.push(`| ${v.target} | ${fmt(v.measured)} ${v.unit} | ${met} | ${shortfall(v)} | ${v.note} |`);
  }
  out.push('');
  if (r.profile) {
    const p = r.profile;
    out.push(`## Where the pure-TS path's time goes (${p.trace}, node --cpu-prof, ${fmt(p.totalMs / 1000)} s sampled)`, '',
      '| function | where | self ms | share |', '| --- | --- | ---: | ---: |');
    for (const t of p.top) out.push(`| ${t.fn} | ${t.where} | ${fmt(t.ms, 0)} | ${fmt(t.share * 100, 1)} % |`);
    out.push('');
  }
  const w = r.workersProfile;
  if (w) {
    out.push(`## Where --workers 2 spends its time (${w.trace}, node --cpu-prof, every thread)`, '',
      'Per thread: sampled time, of it waiting (idle event loop, Atomics.wait on flow control), and the top functions by self time.', '');
    for (const t of w.threads) {
      out.push(`**${t.thread}**: ${fmt(t.totalMs / 1000)} s sampled, ${fmt(t.idleMs / 1000)} s waiting; `
        + t.top.slice(0, 8).map((f) => `${f.fn} ${f.where ? `(${f.where}) ` : ''}${fmt(f.share * 100, 1)} %`).join(', '), '');
    }
  }
  const lines = shortfallLines(r);
  if (lines.length > 0) out.push('## Shortfalls', '', ...lines.map((l) => `- ${l}`), '');
  return out.join('\n');
}

/** The throughput targets a profile explains: one thread (pure-TS) or two workers. */
const PROFILED: Record<string, 'profile' | 'workersProfile'> = {
  '≥ 1.0× tcpdump, one thread': 'profile',
  '≥ 0.5× tcpdump read rate (issue 7)': 'profile',
  '≥ 20× tshark -Y libvirt': 'profile',
  '≥ 2 Mpps on 2 cores': 'profile',
  '≥ 1.6× tcpdump, --workers 2': 'workersProfile',
};

/**
 * One line per missed target: the factor still needed and, for the throughput targets,
 * the top self-time functions of the path's profile (what to make faster first).
 */
export function shortfallLines(r: BenchResults): string[] {
  const lines: string[] = [];
  for (const v of r.targets) {
    if (v.met !== false) continue;
    let line = `${v.target}: measured ${fmt(v.measured)} ${v.unit}, ${shortfall(v)} (${v.note})`;
    const which = PROFILED[v.target];
    const p = which !== undefined ? r[which] : undefined;
    if (p) {
      const threads = p.threads.length > 0 ? p.threads : [{ thread: 'main', top: p.top, totalMs: p.totalMs, idleMs: 0 }];
      line += `; time goes to ${threads.map((t) => `${p.threads.length > 1 ? `${t.thread}: ` : ''}${t.top.slice(0, 5)
        .map((f) => `${f.fn}${f.where ? ` ${f.where}` : ''} ${fmt(f.share * 100, 1)} %`).join(', ')}`).join('; ')}`;
    }
    lines.push(line);
  }
  return lines;
}
