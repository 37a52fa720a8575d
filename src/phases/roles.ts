import { UsageError } from '../core/errors.js';
import type { HostRoles } from './context.js';

const CONTROLLER_PORTS: ReadonlySet<number> = new Set([5000, 35357, 8774, 5672]);

/**
 * `A,B,…[,controller=C]` (hypervisor addresses, roles found per migration) or
 * `source=IP,destination=IP,controller=IP` (any subset), mixed as needed → roles.
 */
export function parseHostsOption(text: string): HostRoles {
  const roles: HostRoles = {};
  const hypervisors: string[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(?:(source|destination|controller)\s*=\s*)?([0-9A-Fa-f.:]+)\s*$/.exec(part);
    if (!m || !/^(\d{1,3}(\.\d{1,3}){3}|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*)$/.test(m[2]!)) {
      throw new UsageError(`--hosts expects hypervisor addresses A,B[,controller=IP] or source=IP,destination=IP (got '${part}')`);
    }
    const role = m[1] as keyof Omit<HostRoles, 'hypervisors'> | undefined;
    if (role !== undefined) roles[role] = m[2]!;
    if (role !== 'controller' && !hypervisors.includes(m[2]!)) hypervisors.push(m[2]!);
  }
  if (hypervisors.length > 0) roles.hypervisors = hypervisors;
  return roles;
}

/** Host roles as the traffic shows them (reported in the summary). */
export interface InferredRoles {
  sources: string[];
  destinations: string[];
  controllers: string[];
  pingClients: string[];
  /**
   * Sightings of hosts past MAX_HOSTS_PER_ROLE (absent when none). Those hosts are not
   * kept, so one of them seen again is counted again: a count of sightings, not of hosts.
   */
  unlistedSightings?: number;
}

/**
 * Hosts listed per role. Any sender can ping from, or serve on port 5672 at, as many
 * addresses as it likes: the lists stay this long and the rest are only counted.
 */
export const MAX_HOSTS_PER_ROLE = 256;

/** A role's hosts in first-seen order, at most MAX_HOSTS_PER_ROLE of them. */
class RoleHosts {
  readonly hosts = new Set<string>();
  unlisted = 0;

  add(ip: string): void {
    if (this.hosts.has(ip)) return;
    if (this.hosts.size < MAX_HOSTS_PER_ROLE) this.hosts.add(ip);
    else this.unlisted++;
  }
}

export class RoleInference {
  private readonly sources = new RoleHosts();
  private readonly destinations = new RoleHosts();
  private readonly controllers = new RoleHosts();
  private readonly pingClients = new RoleHosts();
  private lastPingClient: string | undefined;

  migration(source: string, destination: string): void {
    if (source) this.sources.add(source);
    if (destination) this.destinations.add(destination);
  }

  /** A server on a Keystone / nova-api / RabbitMQ port is the controller. */
  service(serverIp: string, serverPort: number): void {
    if (CONTROLLER_PORTS.has(serverPort)) this.controllers.add(serverIp);
  }

  /** Every echo request names its client: the same host as last time costs a compare. */
  pingClient(ip: string): void {
    if (ip === this.lastPingClient) return;
    this.lastPingClient = ip;
    this.pingClients.add(ip);
  }

  snapshot(overrides: HostRoles): InferredRoles {
    const pick = (role: RoleHosts, o?: string): string[] => (o !== undefined ? [o] : [...role.hosts]);
    const roles: InferredRoles = {
      sources: pick(this.sources, overrides.source),
      destinations: pick(this.destinations, overrides.destination),
      controllers: pick(this.controllers, overrides.controller),
      pingClients: [...this.pingClients.hosts],
    };
    const unlisted = this.sources.unlisted + this.destinations.unlisted + this.controllers.unlisted + this.pingClients.unlisted;
    if (unlisted > 0) roles.unlistedSightings = unlisted;
    return roles;
  }
}
