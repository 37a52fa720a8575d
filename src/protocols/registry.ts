import type { ProtocolAnalyzer } from './types.js';
import { qemuAnalyzer } from './qemu/index.js';
import { libvirtAnalyzer } from './libvirt/index.js';
import { httpAnalyzer } from './http/index.js';
import { amqpAnalyzer } from './amqp/index.js';

/**
 * The stream protocols the dissector knows. Adding a protocol touches its own folder
 * and one line here (as Zeek's Plugin.cc registers an analyzer).
 */
export const analyzers: readonly ProtocolAnalyzer[] = [
  qemuAnalyzer,
  libvirtAnalyzer,
  httpAnalyzer,
  amqpAnalyzer,
];
