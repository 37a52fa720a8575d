/**
 * NDJSON: one JSON value per line. bigints (timestamps, durations in picoseconds)
 * become decimal strings so no precision is lost in JSON consumers.
 */
function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

export function toNdjsonLine(value: unknown): string {
  return `${JSON.stringify(value, replacer)}\n`;
}

/** Writes each value as one line to `out` (stdout, a file stream). */
export class NdjsonWriter {
  constructor(private readonly out: { write(chunk: string): unknown }) {}

  write(value: unknown): void {
    this.out.write(toNdjsonLine(value));
  }
}
