/**
 * sample-guest-app: an application inside a VM that registers with amf-guest (the guest heartbeat
 * client) for heartbeating, voting and notifications, using src/heartbeat/app-client.ts.
 *
 * - Heartbeat: healthy unless the file $SAMPLE_APP_UNHEALTHY_FILE (default /tmp/sample_app_unhealthy)
 *   exists; then unhealthy with its corrective action (reboot).
 * - Votes: rejects stop/reboot while $SAMPLE_APP_VOTE_NO_FILE (default /tmp/sample_app_vote_no)
 *   exists, with the file's first line as the reason; accepts anything else.
 * - Notifications: logs them (a real application would hand off work on stop, re-register with
 *   its load balancer after a migration, and so on).
 * Stops on SIGTERM/SIGINT, deregistering first.
 */
import { existsSync, readFileSync } from 'node:fs';
import { GuestHeartbeatApp } from '../../../src/heartbeat/app-client.js';
import { MAX_APP_FRAME_BYTES } from '../../../src/heartbeat/app-protocol.js';
import { createLogger, createMetricsRegistry } from '../../../src/runtime/observability.js';
import { NodeStreamNetwork } from '../../../src/runtime/node/index.js';

const name = process.env.SAMPLE_APP_NAME ?? 'sample-guest-app';
const unhealthyFile = process.env.SAMPLE_APP_UNHEALTHY_FILE ?? '/tmp/sample_app_unhealthy';
const voteNoFile = process.env.SAMPLE_APP_VOTE_NO_FILE ?? '/tmp/sample_app_vote_no';
const say = (msg: string): void => void process.stderr.write(`${name}: ${msg}\n`);

const logger = createLogger({ node: name, level: 'warn' });
const app = await GuestHeartbeatApp.connect({
  network: new NodeStreamNetwork({ logger, metrics: createMetricsRegistry(name), maxFrameSize: MAX_APP_FRAME_BYTES }),
  ...(process.env.GUEST_HEARTBEAT_API === undefined ? {} : { socketPath: process.env.GUEST_HEARTBEAT_API }),
  name,
  heartbeatIntervalMs: Number(process.env.SAMPLE_APP_INTERVAL_MS ?? 1000),
  correctiveAction: 'reboot',
  voteSecs: 5,
  shutdownNoticeSecs: 5,
  health: () => (existsSync(unhealthyFile) ? { healthy: false, logMsg: `${unhealthyFile} exists` } : { healthy: true }),
  onAction: (a) => {
    say(`${a.notificationType} ${a.eventType} (answer within ${a.timeoutMs} ms)`);
    if (a.notificationType === 'revocable' && (a.eventType === 'stop' || a.eventType === 'reboot') && existsSync(voteNoFile)) {
      const reason = (readFileSync(voteNoFile, 'utf8').split('\n')[0] ?? '').trim() || `${voteNoFile} exists`;
      return { vote: 'reject', reason };
    }
    return undefined;
  },
});
say('registered');
app.onClose(() => process.exit(0));
const stop = (): void => {
  say('deregistering');
  app.close('sample-guest-app stopping');
  setTimeout(() => process.exit(0), 100);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
