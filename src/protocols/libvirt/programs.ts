import { KEEPALIVE_PROCEDURES, LXC_PROCEDURES, QEMU_PROCEDURES, REMOTE_PROCEDURES } from './procedures.js';
import { ADMIN_PROGRAM, KEEPALIVE_PROGRAM, LXC_PROGRAM, QEMU_PROGRAM, REMOTE_PROGRAM } from './types.js';

const PROGRAMS = new Map<number, { name: string; procedures: readonly string[] }>([
  [REMOTE_PROGRAM, { name: 'remote', procedures: REMOTE_PROCEDURES }],
  [KEEPALIVE_PROGRAM, { name: 'keepalive', procedures: KEEPALIVE_PROCEDURES }],
  [QEMU_PROGRAM, { name: 'qemu', procedures: QEMU_PROCEDURES }],
  [LXC_PROGRAM, { name: 'lxc', procedures: LXC_PROCEDURES }],
  [ADMIN_PROGRAM, { name: 'admin', procedures: [] }],
]);

export function isKnownProgram(program: number): boolean {
  return PROGRAMS.has(program);
}

export function programName(program: number): string {
  return PROGRAMS.get(program)?.name ?? `0x${program.toString(16).padStart(8, '0')}`;
}

export function procedureName(program: number, procedure: number): string {
  const name = PROGRAMS.get(program)?.procedures[procedure];
  return name ? name : `PROC_${procedure}`;
}

/** REMOTE procedure number by name (from the generated table). */
export function remoteProc(name: string): number {
  const n = REMOTE_PROCEDURES.indexOf(name);
  if (n <= 0) throw new Error(`no REMOTE procedure ${name}`); // table bug: fails at module load
  return n;
}
