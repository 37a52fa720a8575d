import { describe, expect, it } from 'vitest';
import { FileProgress } from '../../src/stats/progress.js';

function fakeStream(isTTY: boolean): { stream: NodeJS.WriteStream; written: string[] } {
  const written: string[] = [];
  const stream = { isTTY, write: (s: string) => { written.push(s); return true; } } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

describe('file progress bar', () => {
  it('draws on a terminal: partial bar, the final full bar with counts, then a newline', () => {
    const { stream, written } = fakeStream(true);
    const p = new FileProgress(stream, 10);
    p.update(1, 5, 7); // 10 × 1/5 = 2 cells
    p.update(5, 5, 30); // the last file always redraws
    p.done();
    expect(written).toEqual(['\r[##........] 1/5 files, 7 migrations', '\r[##########] 5/5 files, 30 migrations', '\n']);
  });

  it('stays silent when stderr is not a terminal or there is a single file', () => {
    const piped = fakeStream(false);
    const p = new FileProgress(piped.stream, 10);
    p.update(1, 3, 1);
    p.update(3, 3, 3);
    p.done();
    expect(piped.written).toEqual([]);
    const tty = fakeStream(true);
    const single = new FileProgress(tty.stream, 10);
    single.update(1, 1, 100);
    single.done();
    expect(tty.written).toEqual([]);
  });
});
