/**
 * A slow reader of standard input for `npm run bench -- --hostile`: 64 KiB every 2 ms
 * (about 32 MB/s), so a writer that ignored backpressure would pile its output up in
 * its own heap. Reads until end of input, writes nothing.
 */
const CHUNK = 64 * 1024;
const PAUSE_MS = 2;

function take(): void {
  const chunk: Buffer | null = process.stdin.read(CHUNK) as Buffer | null;
  if (chunk === null) {
    process.stdin.once('readable', take);
    return;
  }
  setTimeout(take, PAUSE_MS);
}

process.stdin.once('readable', take);
