/**
 * `amf-sg-agent`: the server-group guest agent (bin/amf-sg-agent.js runs it), the relay between
 * applications in a guest and the host's amfd over the virtio-serial channel. Run it at guest
 * start-up and respawn it if it dies, as StarlingX's guest_agent (docs/server-groups.md).
 */
import { Command } from 'commander';
import { NodeChannelNetwork } from '../runtime/node/channel.js';
import { NodeClock } from '../runtime/node/clock.js';
import { createLogger } from '../runtime/observability.js';
import { DEFAULT_APP_SOCKET, DEFAULT_DEVICE, GuestAgent } from '../servergroup/guest-agent.js';

const program = new Command('amf-sg-agent')
  .description('relay server-group messages between the applications of this guest and its host')
  .option('--device <path>', 'the virtio-serial channel device (env AMF_SG_DEVICE)', process.env['AMF_SG_DEVICE'] ?? DEFAULT_DEVICE)
  .option('--listen <path>', 'instead of a device, listen on this unix socket for the host (a host standing in for QEMU, tests)')
  .option('--app-socket <path>', 'where applications connect (env AMF_SG_SOCKET)', process.env['AMF_SG_SOCKET'] ?? DEFAULT_APP_SOCKET)
  .option('--log-level <level>', 'pino level', process.env['AMF_SG_LOG_LEVEL'] ?? 'info')
  .parse(process.argv);

const opts = program.opts<{ device: string; listen?: string; appSocket: string; logLevel: string }>();
const logger = createLogger({ node: 'guest', level: opts.logLevel as 'info', destination: process.stderr });
const agent = new GuestAgent({
  clock: new NodeClock(),
  channels: new NodeChannelNetwork(logger),
  logger,
  host: opts.listen !== undefined ? { listen: opts.listen } : { device: opts.device },
  appSocket: opts.appSocket,
});
const started = await agent.start();
if (!started.ok) {
  process.stderr.write(`amf-sg-agent: ${started.error}\n`);
  process.exit(1);
}
const stop = (): void => void agent.stop().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
