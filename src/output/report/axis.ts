/** Linear scales and "nice" tick values (1, 2, 5 × 10^k steps) for readable axes. */

export interface LinearScale {
  (value: number): number;
  domain: [number, number];
  ticks: number[];
}

export function niceStep(span: number, targetTicks: number): number {
  if (!(span > 0)) return 1;
  const raw = span / Math.max(1, targetTicks);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const r = raw / magnitude;
  const nice = r <= 1 ? 1 : r <= 2 ? 2 : r <= 2.5 ? 2.5 : r <= 5 ? 5 : 10;
  return nice * magnitude;
}

/** Ticks covering [min, max] (domain widened to whole steps). */
export function niceTicks(min: number, max: number, targetTicks = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (min === max) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const step = niceStep(max - min, targetTicks);
  const first = Math.floor(min / step) * step;
  const ticks: number[] = [];
  for (let i = 0; i <= 1000; i++) {
    const t = first + i * step;
    ticks.push(Number(t.toPrecision(12)));
    if (t >= max - step * 1e-9) break;
  }
  return ticks;
}

/** Maps [d0, d1] onto [r0, r1] (pixel range, may be reversed for y). */
export function linearScale(d0: number, d1: number, r0: number, r1: number, ticks: number[] = []): LinearScale {
  const span = d1 - d0 || 1;
  const f = ((v: number) => r0 + ((v - d0) / span) * (r1 - r0)) as LinearScale;
  f.domain = [d0, d1];
  f.ticks = ticks;
  return f;
}

/** A scale with nice ticks whose domain is the tick range; includes zero when asked. */
export function niceScale(min: number, max: number, r0: number, r1: number, includeZero = true, targetTicks = 5): LinearScale {
  const lo = includeZero ? Math.min(0, min) : min;
  const hi = includeZero ? Math.max(0, max) : max;
  const ticks = niceTicks(lo, hi, targetTicks);
  return linearScale(ticks[0]!, ticks[ticks.length - 1]!, r0, r1, ticks);
}

/** Tick label with as many decimals as the step needs (2.5 → one, 0.05 → two). */
export function tickLabel(value: number, ticks: readonly number[]): string {
  const step = ticks.length > 1 ? Math.abs(ticks[1]! - ticks[0]!) : 1;
  let decimals = 0;
  while (decimals < 6 && Math.abs(Math.round(step * 10 ** decimals) - step * 10 ** decimals) > 1e-6) decimals++;
  return value.toFixed(decimals);
}
