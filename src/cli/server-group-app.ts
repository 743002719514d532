/**
 * `server-group-app ["message"]`: the seed's sample application (server_group_app.c), on the
 * TypeScript client library. It registers all three callbacks, broadcasts its argument if it was
 * given exactly one, requests the group status, then prints every incoming message with its type,
 * in the sample's words, until killed.
 */
import { NodeChannelNetwork } from '../runtime/node/channel.js';
import { NodeClock } from '../runtime/node/clock.js';
import { createLogger } from '../runtime/observability.js';
import { ServerGroupClient } from '../servergroup/client.js';

const out = (s: string): void => void process.stdout.write(s);
const args = process.argv.slice(2);
const logger = createLogger({ node: 'guest', level: 'silent' });
const init = await ServerGroupClient.init(
  {
    broadcast: (from, msg) => out(`got server group broadcast msg: len: ${Buffer.byteLength(msg)}, sinstance: ${from.slice(0, 20)}, msg: ${msg}\n\n`),
    notification: (msg) => out(`got server group notification msg: ${msg}\n\n`),
    status: (msg) => out(`got server group status response msg: ${msg}\n\n`),
  },
  { channels: new NodeChannelNetwork(logger), clock: new NodeClock(), env: process.env },
);
if (!init.ok) {
  out(`error initializing library: ${init.error}\n`);
  process.exit(255);
}
const sg = init.value;
sg.on('error', (why) => out(`problem processing incoming msg: ${why}\n`));
if (args.length === 1) {
  const r = sg.broadcast(args[0] ?? '');
  if (!r.ok) {
    out(`problem sending broadcast: ${r.error}\n`);
    process.exit(255);
  }
}
const s = sg.requestStatus();
if (!s.ok) {
  out(`problem requesting status: ${s.error}\n`);
  process.exit(255);
}
// Wait for messages forever, as the sample's select() loop (the client reconnects by itself).
setInterval(() => undefined, 1 << 30);
