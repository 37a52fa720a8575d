import { loadNative } from './live/native.js';

/**
 * Capture files read in place: the addon maps the file (mmap, read-only) and hands out
 * windows of it as ArrayBuffers over the mapping itself, so the readers parse the page
 * cache without a read() copy. Windows the reader is done with are given back
 * (madvise DONTNEED: out of this process, still cached), so resident memory stays flat
 * whatever the file size. A record that straddles two windows is assembled by the push
 * parser's small tail buffer (one copy per window at most).
 *
 * Not for gzip (decompressed as a stream) nor for pipes and devices (no size): the
 * caller reads those. A file truncated by another process while mapped would fault
 * (SIGBUS) on the missing pages; capture files are written once and read afterwards.
 */
export interface MappedFile {
  readonly size: number;
  /** Windows of at most `windowBytes`, in file order; each released once the next is asked for. */
  windows(windowBytes: number): Generator<Uint8Array>;
  /** The bytes [offset, offset + length) of the file, in place (a reader that walks records itself). */
  window(offset: number, length: number): Uint8Array;
  /** The caller is done with [offset, offset + length): its pages leave this process (they stay cached). */
  release(offset: number, length: number): void;
  /** No more windows; the mapping goes once the last window is collected. Idempotent. */
  close(): void;
}

/** Bytes read between two releases of the pages behind the reader (resident memory bound). */
const RELEASE_STRIDE = 32 << 20;

interface MappingHandle { readonly __mapping: unique symbol }
interface MapAddon {
  mapFile(path: string): { mapping: MappingHandle; size: number };
  mapWindow(m: MappingHandle, offset: number, length: number): ArrayBuffer;
  releasePages(m: MappingHandle, offset: number, length: number): void;
  unmapFile(m: MappingHandle): void;
  copyCounters(): { mappings: number; windows: number; bytesCopied: number };
}

function addon(): MapAddon | undefined {
  try {
    return loadNative() as unknown as MapAddon;
  } catch {
    return undefined;
  }
}

/**
 * Maps `path`, or returns undefined when it cannot be mapped (no addon built, not a
 * regular file, an empty file): the caller then reads it. Open errors (missing file,
 * no permission) are left for the caller's own open to report.
 */
export function mapCaptureFile(path: string): MappedFile | undefined {
  const a = addon();
  if (a === undefined) return undefined;
  let handle: { mapping: MappingHandle; size: number };
  try {
    handle = a.mapFile(path);
  } catch {
    return undefined;
  }
  const { mapping, size } = handle;
  if (size === 0) { a.unmapFile(mapping); return undefined; }
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    a.unmapFile(mapping);
  };
  return {
    size,
    close,
    window: (offset, length) => new Uint8Array(a.mapWindow(mapping, offset, length)),
    release: (offset, length) => { if (!closed) a.releasePages(mapping, offset, length); },
    *windows(windowBytes: number): Generator<Uint8Array> {
      let at = 0;
      let released = 0;
      while (at < size && !closed) {
        const len = Math.min(windowBytes, size - at);
        yield new Uint8Array(a.mapWindow(mapping, at, len));
        at += len;
        // The consumer asked for the next window: it is done with everything before.
        // Released in strides: one madvise per window cost more than the read() copy.
        if (!closed && at - released >= RELEASE_STRIDE) {
          a.releasePages(mapping, released, at - released);
          released = at;
        }
      }
    },
  };
}

/** Live mappings and windows, and packet bytes any capture path of the addon copied. */
export function copyCounters(): { mappings: number; windows: number; bytesCopied: number } | undefined {
  return addon()?.copyCounters();
}
