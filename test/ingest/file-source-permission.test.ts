import { describe, expect, it, vi } from 'vitest';

// Root (as in CI and here) can read any file, so the EACCES path is driven by a stubbed open().
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    open: async (path: string) => {
      throw Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: 'EACCES' });
    },
  };
});

const { openCapture } = await import('../../src/ingest/file-source.js');
const { MigscopeError, SourceNotFoundError } = await import('../../src/core/errors.js');

describe('openCapture without read permission', () => {
  it('is a MigscopeError naming the file, not a raw errno error', async () => {
    const err = await openCapture('/captures/secret.pcap').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigscopeError);
    expect(err).not.toBeInstanceOf(SourceNotFoundError);
    expect((err as Error).message).toBe('permission denied reading capture file /captures/secret.pcap');
  });
});
