import type { BenchResults, SubjectResult, TargetVerdict } from './types.js';

const ok = (r: SubjectResult): boolean => r.exitCode === 0 && r.problem === undefined;

/**
 * Targets are judged on the worst trace, with migscope's fastest path on each trace (the
 * one a user would pick: every path here runs on the same 2-core machine).
 */
export function evaluateTargets(r: BenchResults): TargetVerdict[] {
  const pcapTraces = r.traces.filter((t) => t.format === 'pcap').map((t) => t.name);
  // A peer's time ÷ our fastest time on each pcap trace; the smallest (worst) one counts,
  // NaN when the peer is missing or failed on any trace (the run cannot tell then). A
  // peer killed at the time limit counts with its bound (its true ratio is at least that).
  const worst = (subject: string): { ratio: number; trace: string } => {
    const per = pcapTraces.map((t) => {
      const peer = r.runs.find((x) => x.trace === t && x.subject === subject && (ok(x) || x.lowerBound === true));
      return { ratio: peer ? peer.timeRatioToBestMigscope : Number.NaN, trace: t };
    });
    if (per.length === 0 || per.some((p) => Number.isNaN(p.ratio))) return { ratio: Number.NaN, trace: '' };
    return per.reduce((a, b) => (b.ratio < a.ratio ? b : a));
  };
  const verdict = (target: string, measured: number, unit: string, goal: number, higherIsBetter: boolean, note: string): TargetVerdict => ({
    target, measured, unit, goal, note,
    met: Number.isFinite(measured) ? (higherIsBetter ? measured >= goal : measured < goal) : null,
  });
  const tshark = worst('tshark -Y libvirt');
  const tcpdump = worst('tcpdump -r F -w /dev/null');
  // One path against tcpdump, worst pcap trace: tcpdump's time ÷ that path's time.
  const vsTcpdump = (subject: string): { ratio: number; trace: string } => {
    const per = pcapTraces.map((t) => {
      const peer = r.runs.find((x) => x.trace === t && x.subject === 'tcpdump -r F -w /dev/null' && ok(x));
      const ours = r.runs.find((x) => x.trace === t && x.subject === subject && ok(x));
      return { ratio: peer && ours ? peer.wallSeconds / ours.wallSeconds : Number.NaN, trace: t };
    });
    if (per.length === 0 || per.some((p) => Number.isNaN(p.ratio))) return { ratio: Number.NaN, trace: '' };
    return per.reduce((a, b) => (b.ratio < a.ratio ? b : a));
  };
  const one = vsTcpdump('migscope pure-TS');
  const two = vsTcpdump('migscope --workers 2');
  let pps = Number.NaN;
  let ppsNote = '';
  for (const t of pcapTraces) {
    const best = r.runs.filter((x) => x.trace === t && x.migscope && ok(x)).sort((a, b) => b.packetsPerSecond - a.packetsPerSecond)[0];
    if (best && (Number.isNaN(pps) || best.packetsPerSecond < pps)) { pps = best.packetsPerSecond; ppsNote = `${best.subject} on ${t}`; }
  }
  const ours = r.runs.filter((x) => x.migscope);
  const rss = ours.length > 0 ? Math.max(...ours.map((x) => x.maxRssBytes)) / 2 ** 20 : Number.NaN;
  const rssRun = ours.find((x) => x.maxRssBytes / 2 ** 20 === rss);
  const l = r.latency;
  return [
    verdict('≥ 20× tshark -Y libvirt', tshark.ratio, '×', 20, true, `tshark time ÷ fastest migscope time, worst trace ${tshark.trace}`),
    verdict('≥ 1.0× tcpdump, one thread', one.ratio, '×', 1, true, `tcpdump -r -w /dev/null time ÷ migscope pure-TS time, worst trace ${one.trace}`),
    verdict('≥ 1.6× tcpdump, --workers 2', two.ratio, '×', 1.6, true, `tcpdump time ÷ migscope --workers 2 time, worst trace ${two.trace}`),
    verdict('≥ 0.5× tcpdump read rate (issue 7)', tcpdump.ratio, '×', 0.5, true, `tcpdump time ÷ fastest migscope time, worst trace ${tcpdump.trace}`),
    verdict('≥ 2 Mpps on 2 cores', pps / 1e6, 'Mpps', 2, true, `fastest migscope path, worst trace: ${ppsNote}`),
    verdict('RSS < 256 MB for any trace size', rss, 'MiB', 256, false, rssRun ? `peak of all migscope runs: ${rssRun.subject} on ${rssRun.trace}` : ''),
    verdict('event latency p99 < 1 ms', l ? l.schedule.p99 / 1000 : Number.NaN, 'ms', 1, false,
      l ? `marker wire time → event, ${l.speed}× replay of ${l.trace} (pure-TS path)` : 'not measured'),
    liveVerdict(r),
    verdict('live marker → event p99 < 1 ms', r.live?.latency ? r.live.latency.triggerUs.p99 / 1000 : Number.NaN, 'ms', 1, false,
      r.live?.latency ? `wire-timing replay on a veth, AF_PACKET path, triggering packet → event, ${r.live.latency.events} phase events` : r.liveSkipped ?? 'not measured'),
  ];
}

/**
 * Live: the highest drop-free replay rate. When tcpreplay could go no faster while
 * migscope still dropped nothing, the figure is a lower bound: the goal is then "not
 * shown" (null) unless the bound already reaches it.
 */
function liveVerdict(r: BenchResults): TargetVerdict {
  const target = 'live drop-free ≥ 10 Gbit/s';
  const m = r.live?.paths.find((p) => p.path === 'migscope');
  if (!r.live || !m || m.dropFreeGbps === null) {
    return { target, measured: Number.NaN, unit: 'Gbit/s', goal: 10, met: null, note: r.liveSkipped ?? 'no drop-free trial' };
  }
  const reached = m.dropFreeGbps >= 10;
  const dropped = m.firstDropPps !== null && !m.senderLimited;
  return {
    target, measured: m.dropFreeGbps, unit: 'Gbit/s', goal: 10,
    // Without a drop the figure is only a lower bound: "not shown" unless it reaches 10.
    met: reached ? true : dropped ? false : null,
    note: dropped
      ? `first drop at ${Math.round(m.firstDropPps!)} pps`
      : `no drop up to ${Math.round(m.dropFreePps ?? 0)} pps${m.senderLimited ? ', the fastest tcpreplay reached (sender-limited)' : ' (search steps used up)'}: a lower bound`,
  };
}

