import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, runCommand, waitExit } from './processes.js';

export interface Broker {
  port: number;
  stop(): Promise<void>;
}

function rabbitUid(): { uid: number; gid: number } {
  const id = (flag: string): number => Number(spawnSync('id', [flag, 'rabbitmq'], { encoding: 'utf8' }).stdout.trim());
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * Our own RabbitMQ node on 127.0.0.1: free AMQP/distribution ports, its own epmd on a
 * free port (so a system broker or epmd is never touched), mnesia and logs under `dir`.
 * Startup takes ~10–15 s; bounded by `timeoutMs`.
 */
export async function startRabbitMq(dir: string, timeoutMs = 45_000): Promise<Broker> {
  const [port, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
  const node = `migscope${process.pid}@localhost`;
  mkdirSync(join(dir, 'mnesia'), { recursive: true });
  mkdirSync(join(dir, 'log'), { recursive: true });
  const { uid, gid } = rabbitUid();
  for (const d of [dir, join(dir, 'mnesia'), join(dir, 'log')]) chownSync(d, uid, gid);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'rabbit.pid'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    ERL_EPMD_PORT: String(epmdPort),
  };
  const epmd = spawn('epmd', ['-port', String(epmdPort)], { env, stdio: 'ignore' });
  let server: ChildProcess | null = null;
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  const stop = async (): Promise<void> => {
    if (server !== null && server.exitCode === null) {
      await runCommand('rabbitmqctl', ['-n', node, 'stop'], { env, ms: 20_000 });
      // rabbitmq-server runs the node in our process group (detached): end that group if stop failed.
      if ((await waitExit(server, 10_000)) === null && server.pid !== undefined) {
        try { process.kill(-server.pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
    if (epmd.pid !== undefined && epmd.exitCode === null) epmd.kill('SIGTERM');
    await waitExit(epmd, 5000);
  };
  try {
    server = spawn('rabbitmq-server', [], { env, stdio: 'ignore', detached: true });
    const wait = await runCommand('rabbitmqctl', ['-n', node, 'wait', join(dir, 'rabbit.pid'), '--timeout', String(Math.round(timeoutMs / 1000))],
      { env, ms: timeoutMs + 5000 });
    if (wait.status !== 0) throw new Error(`RabbitMQ did not start (rabbitmqctl wait: ${wait.status}): ${wait.out.slice(-500)}`);
    return { port, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
