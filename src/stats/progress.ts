/**
 * A one-line progress bar on stderr while many files load — only on a terminal, so
 * piped or captured stderr stays clean.
 */
export class FileProgress {
  private readonly enabled: boolean;
  private lastDraw = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr, private readonly width = 30) {
    this.enabled = stream.isTTY === true;
  }

  update(done: number, total: number, migrations: number): void {
    if (!this.enabled || total < 2) return;
    const now = Date.now();
    if (done < total && now - this.lastDraw < 100) return; // redraw at most 10×/s
    this.lastDraw = now;
    const filled = Math.round((this.width * done) / total);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(this.width - filled)}`;
    this.stream.write(`\r[${bar}] ${done}/${total} files, ${migrations} migrations`);
  }

  done(): void {
    if (this.enabled && this.lastDraw > 0) this.stream.write('\n');
  }
}
