import { UsageError } from '../core/errors.js';
import type { HostRoles } from './context.js';

const CONTROLLER_PORTS: ReadonlySet<number> = new Set([5000, 35357, 8774, 5672]);

/** `source=IP,destination=IP,controller=IP` (any subset) → roles. */
export function parseHostsOption(text: string): HostRoles {
  const roles: HostRoles = {};
  for (const part of text.split(',')) {
    const m = /^\s*(source|destination|controller)\s*=\s*([0-9A-Fa-f.:]+)\s*$/.exec(part);
    if (!m) throw new UsageError(`--hosts expects source=IP,destination=IP,controller=IP (got '${part}')`);
    roles[m[1] as keyof HostRoles] = m[2]!;
  }
  return roles;
}

/** Host roles as the traffic shows them (reported in the summary). */
export interface InferredRoles {
  sources: string[];
  destinations: string[];
  controllers: string[];
  pingClients: string[];
}

export class RoleInference {
  private readonly sources = new Set<string>();
  private readonly destinations = new Set<string>();
  private readonly controllers = new Set<string>();
  private readonly pingClients = new Set<string>();

  migration(source: string, destination: string): void {
    if (source) this.sources.add(source);
    if (destination) this.destinations.add(destination);
  }

  /** A server on a Keystone / nova-api / RabbitMQ port is the controller. */
  service(serverIp: string, serverPort: number): void {
    if (CONTROLLER_PORTS.has(serverPort)) this.controllers.add(serverIp);
  }

  pingClient(ip: string): void {
    this.pingClients.add(ip);
  }

  snapshot(overrides: HostRoles): InferredRoles {
    const pick = (set: Set<string>, o?: string): string[] => (o !== undefined ? [o] : [...set]);
    return {
      sources: pick(this.sources, overrides.source),
      destinations: pick(this.destinations, overrides.destination),
      controllers: pick(this.controllers, overrides.controller),
      pingClients: [...this.pingClients],
    };
  }
}
