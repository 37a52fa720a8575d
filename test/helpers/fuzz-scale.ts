/**
 * How much the fuzz tests run. CI runs the small counts; `MIGSCOPE_FUZZ=full` runs the
 * long campaign of issue 10 (≥ 1 M inputs across the suite: decoder inputs, single
 * packets and mutated whole migrations). Each fuzz test prints one `fuzzed:` line, so a
 * run states exactly how much was fuzzed (bench/results/hostile.md sums them).
 */
export const FUZZ_FULL = process.env.MIGSCOPE_FUZZ === 'full';

export function fuzzCount(ci: number, full: number): number {
  return FUZZ_FULL ? full : ci;
}

export function reportFuzzed(name: string, inputs: number, packets?: number): void {
  console.log(`fuzzed: ${name}: ${inputs} inputs${packets !== undefined ? `, ${packets} packets` : ''}`);
}
