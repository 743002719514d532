/**
 * bin/amf-guest: the guest heartbeat client that runs inside a VM (docs/guest-heartbeat.md). The
 * thin I/O entry point: reads guest_heartbeat.conf, binds the real ports, runs GuestClient until
 * SIGTERM/SIGINT (then sends `exit`, so the host reports no loss). Logs are pino JSON lines on
 * stdout named Guest-Client, as the seed's grep expects.
 */
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { Command } from 'commander';
import { GuestClient, DEFAULT_DEVICE } from '../heartbeat/guest-client.js';
import { DEFAULT_CONFIG_PATH, parseGuestConfig } from '../heartbeat/guest-config.js';
import { DEFAULT_APP_SOCKET } from '../heartbeat/app-protocol.js';
import { createLogger, createMetricsRegistry } from '../runtime/observability.js';
import { NodeChannelNetwork } from '../runtime/node/channel.js';
import { NodeClock, NodeProcessRunner, NodeStreamNetwork, createNodeRandom } from '../runtime/node/index.js';
import { MAX_APP_FRAME_BYTES } from '../heartbeat/app-protocol.js';

const program = new Command('amf-guest')
  .description('Guest heartbeat client: answers the host challenges, runs the health-check and event scripts, serves in-guest applications')
  .option('--config <path>', 'guest_heartbeat.conf', process.env.GUEST_HEARTBEAT_CONF ?? DEFAULT_CONFIG_PATH)
  .option('--device <path>', 'the channel: a virtio-serial port, or a unix socket standing in for one', process.env.GUEST_CLIENT_DEVICE ?? DEFAULT_DEVICE)
  .option('--name <name>', 'the name sent in init (default: the hostname)')
  .option('--api-socket <path>', 'the application API socket, or "none"', process.env.GUEST_HEARTBEAT_API ?? DEFAULT_APP_SOCKET)
  .option('--log-level <level>', 'pino log level', process.env.GUEST_CLIENT_LOG_LEVEL ?? 'info')
  .parse();

const o = program.opts<{ config: string; device: string; name?: string; apiSocket: string; logLevel: string }>();
const name = o.name ?? hostname();
const logger = createLogger({ node: name, level: o.logLevel as 'info' }).child({ name: 'Guest-Client' });

let text: string;
try {
  text = readFileSync(o.config, 'utf8');
} catch (e) {
  logger.fatal(`Failed to read guest heartbeat configuration ${o.config}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  process.exit(2);
}
const parsed = parseGuestConfig(text, o.config);
for (const w of parsed.warnings) logger.warn(w.toString());
if (parsed.errors.length > 0) {
  for (const e of parsed.errors) logger.fatal(e.toString());
  process.exit(2);
}

const metrics = createMetricsRegistry(name);
const env = Object.fromEntries(Object.entries(process.env).filter((kv): kv is [string, string] => kv[1] !== undefined));
const channels = new NodeChannelNetwork(logger);
// A unix socket stands in for the device where there is no VM (tests); anything else is the port.
const openChannel = (): ReturnType<NodeChannelNetwork['openDevice']> =>
  statSync(o.device, { throwIfNoEntry: false })?.isSocket() ? channels.connect(o.device, { timeoutMs: 5000 }) : channels.openDevice(o.device);
const client = new GuestClient({
  config: parsed.config,
  name,
  device: o.device,
  openChannel,
  apiSocket: o.apiSocket === 'none' ? undefined : o.apiSocket,
  clock: new NodeClock(),
  random: createNodeRandom(),
  stream: new NodeStreamNetwork({ logger, metrics, maxFrameSize: MAX_APP_FRAME_BYTES }),
  processes: new NodeProcessRunner({ logger, metrics }),
  env,
  logger,
});

// The clock's timers are unref'd: hold the process open until told to stop.
const keepAlive = setInterval(() => undefined, 1 << 30);
let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  logger.info(`Guest-Client stopping on ${signal}`);
  void client.stop().then(() => {
    clearInterval(keepAlive);
    // Let the exit message reach the channel before the process ends.
    setTimeout(() => process.exit(0), 100).unref();
  });
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGHUP', () => logger.info('SIGHUP ignored'));

try {
  await client.start();
} catch (e) {
  logger.fatal({ err: e }, 'Guest-Client failed to start');
  process.exit(1);
}
