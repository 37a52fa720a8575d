/**
 * `watch` in a real terminal (tmux): while a phase runs with no event arriving (the
 * Preparation of a KVM migration: only libvirt packets, no phase event), the running
 * phase's elapsed time must move — the view redraws from the wire clock, here a replay
 * at a quarter of the wire speed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateFile } from '../phases/generated.js';

const cli = join(resolve(__dirname, '../..'), 'bin/migscope.js');
const hasTmux = spawnSync('sh', ['-c', 'command -v tmux']).status === 0;
if (!hasTmux && process.env.CI !== 'true') console.warn('skipping the watch redraw test: needs tmux (scripts/setup.sh)');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tmux = (...args: string[]) => spawnSync('tmux', args, { encoding: 'utf8', timeout: 10_000 });

/** The running phase and its elapsed seconds as the screen shows them. */
function running(screen: string): { phase: string; elapsed: number } | undefined {
  const m = /▶ (\S+)\s+(\d+\.\d+) s/.exec(screen);
  return m ? { phase: m[1]!, elapsed: Number(m[2]) } : undefined;
}

describe.runIf(hasTmux || process.env.CI === 'true')('watch redraws the running phase between events', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mgs-watch-'));
  const session = `mgs-watch-${process.pid}`;
  let file = '';
  beforeAll(() => {
    file = generateFile(dir, 'kvm.pcap', { scenario: 'kvm', payloadScale: 0.002, seed: 31 }).file;
  });
  afterAll(() => {
    tmux('kill-session', '-t', session);
    rmSync(dir, { recursive: true, force: true });
  });

  it('the elapsed time of Preparation moves while no event arrives', async () => {
    const r = tmux('new-session', '-d', '-s', session, '-x', '160', '-y', '40',
      `node ${cli} watch --realtime --speed 0.25 ${file}; sleep 30`);
    expect(r.status, r.stderr).toBe(0);
    const screen = () => tmux('capture-pane', '-p', '-t', session).stdout;
    let first: { phase: string; elapsed: number } | undefined;
    for (let i = 0; i < 300 && first?.phase !== 'preparation'; i++) { // ≤ 30 s
      await sleep(100);
      first = running(screen());
    }
    expect(first?.phase, screen()).toBe('preparation');
    await sleep(700);
    const second = running(screen());
    // Preparation lasts 0.57 s of wire time, 2.3 s at this speed: still running.
    expect(second?.phase, screen()).toBe('preparation');
    expect(second!.elapsed).toBeGreaterThan(first!.elapsed);
  }, 60_000);
});
