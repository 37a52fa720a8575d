import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { namedPair, peerHypervisor } from '../../src/phases/context.js';
import { parseHostsOption } from '../../src/phases/roles.js';

describe('--hosts', () => {
  it('a set of hypervisors (roles per migration, both directions) and a controller', () => {
    const r = parseHostsOption('10.0.0.1, 10.0.0.2,controller=10.0.0.9');
    expect(r).toEqual({ controller: '10.0.0.9', hypervisors: ['10.0.0.1', '10.0.0.2'] });
    expect([namedPair(r, '10.0.0.1', '10.0.0.2'), namedPair(r, '10.0.0.2', '10.0.0.1')]).toEqual([true, true]);
    expect([namedPair(r, '10.0.0.1', '10.0.0.1'), namedPair(r, '10.0.0.9', '10.0.0.1')]).toEqual([false, false]);
    expect([peerHypervisor(r, '10.0.0.2'), peerHypervisor(r, '10.0.0.9')]).toEqual(['10.0.0.1', undefined]);
    expect(parseHostsOption('fd00::1,fd00::2').hypervisors).toEqual(['fd00::1', 'fd00::2']);
  });

  it('fixed roles still work and name one direction', () => {
    const r = parseHostsOption('source=10.0.0.1,destination=10.0.0.2');
    expect(r).toMatchObject({ source: '10.0.0.1', destination: '10.0.0.2' });
    expect([namedPair(r, '10.0.0.1', '10.0.0.2'), namedPair(r, '10.0.0.2', '10.0.0.1')]).toEqual([true, false]);
  });

  it('anything else is a usage error', () => {
    for (const bad of ['', 'host', 'source=', '10.0.0.1,sink=10.0.0.2', '1.2.3']) {
      expect(() => parseHostsOption(bad), bad).toThrow(UsageError);
    }
  });
});
