/**
 * counter-service: a sample SA-aware component for amfd.
 *
 * While ACTIVE for its CSI it serves a counter over HTTP on 127.0.0.1:<port> (the CSI attribute
 * `port`; 0 takes any free port, which it prints): GET /next increments and returns it, GET /value
 * returns it. While STANDBY it follows the active copy (polls GET /value) so that it can take
 * over where the active left off. A port that is taken fails the CSI set with a reason naming the
 * port and, when /proc tells, the process holding it.
 *
 * It registers with the agent using what amfd put in its environment, starts the AMF-invoked
 * healthcheck named by $HEALTHCHECK_KEY, answers healthchecks (FAILED while the file named by
 * $FAIL_HEALTHCHECK_FILE exists), reports an error with recovery component-restart on SIGUSR1,
 * and exits on the terminate callback.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import { AmfClient, type CsiDescriptor } from '../../../src/client/index.js';
import { createMetricsRegistry, createLogger } from '../../../src/runtime/observability.js';
import { NodeStreamNetwork } from '../../../src/runtime/node/index.js';

const say = (msg: string): void => void process.stderr.write(`counter-service ${process.env.SA_AMF_COMPONENT_NAME ?? '?'}: ${msg}\n`);

let counter = 0;
let server: Server | undefined;
let follower: NodeJS.Timeout | undefined;

function stopServing(): Promise<void> {
  if (follower) clearInterval(follower);
  follower = undefined;
  const s = server;
  server = undefined;
  if (!s) return Promise.resolve();
  s.closeAllConnections();
  return new Promise((resolve) => s.close(() => resolve()));
}

/** The process listening on a TCP port of this host, from /proc (Linux; undefined elsewhere or when unreadable). */
function holderOf(port: number): string | undefined {
  try {
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    const inodes = new Set<string>();
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      if (!existsSync(table)) continue;
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        // local_address is ADDR:PORT in hex; state 0A is LISTEN; the inode is field 9.
        if (f[1]?.endsWith(`:${hex}`) && f[3] === '0A' && f[9]) inodes.add(f[9]);
      }
    }
    if (inodes.size === 0) return undefined;
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      let fds: string[];
      try {
        fds = readdirSync(`/proc/${pid}/fd`);
      } catch {
        continue; // gone, or not ours to read
      }
      for (const fd of fds) {
        let target: string;
        try {
          target = readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          continue;
        }
        const m = /^socket:\[(\d+)\]$/.exec(target);
        if (m && inodes.has(m[1]!)) {
          const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
          return `pid ${pid} (${cmd.length > 120 ? `${cmd.slice(0, 117)}...` : cmd})`;
        }
      }
    }
  } catch {
    // /proc is not what we expect: no holder to name
  }
  return undefined;
}

function serve(port: number): Promise<void> {
  const s = createServer((req, res) => {
    if (req.url === '/next') counter += 1;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ counter, comp: process.env.SA_AMF_COMPONENT_NAME }));
  });
  server = s;
  return new Promise((resolve, reject) => {
    s.once('error', (e: NodeJS.ErrnoException) => {
      server = undefined;
      if (e.code !== 'EADDRINUSE') return reject(e);
      const holder = holderOf(port);
      reject(new Error(`port ${port} on 127.0.0.1 is in use${holder ? ` by ${holder}` : ' (holder unknown)'}; give the CSI attribute port another value, or 0 for any free port`));
    });
    s.listen(port, '127.0.0.1', () => {
      const a = s.address();
      if (port === 0 && typeof a === 'object' && a) say(`serving on free port ${a.port}`);
      resolve();
    });
  });
}

/** Standby: keep a copy of the active's counter. */
function follow(port: number): void {
  follower = setInterval(() => {
    get({ host: '127.0.0.1', port, path: '/value', timeout: 500 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        try {
          const v = (JSON.parse(body) as { counter: number }).counter;
          if (Number.isInteger(v) && v > counter) counter = v;
        } catch {
          // the active is gone or restarting: keep the copy we have
        }
      });
    }).on('error', () => undefined);
  }, 100);
}

async function main(): Promise<void> {
  const logger = createLogger({ node: 'counter', level: 'silent' });
  const network = new NodeStreamNetwork({ logger, metrics: createMetricsRegistry('counter') });
  const client = await AmfClient.connect({ network, env: process.env });

  client.onCsiSet(async (csi: CsiDescriptor) => {
    const port = Number(csi.attributes.port);
    say(`CSI set ${csi.csi} ${csi.haState}`);
    await stopServing();
    const needsPort = csi.haState === 'active' || csi.haState === 'standby';
    // Checked for standby too: http.get throws on a bad port, which would crash the follower's timer.
    if (needsPort && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new Error(`bad port attribute ${csi.attributes.port}`);
    if (csi.haState === 'active') {
      await serve(port);
    } else if (csi.haState === 'standby') {
      // Port 0: the active's port is not known here; this standby starts from 0 when it takes over.
      if (port > 0) follow(port);
    } else if (csi.haState === 'quiescing') {
      // Nothing in flight to finish: quiescing is complete at once.
      setImmediate(() => void client.quiescingComplete(csi.invocation).catch(() => undefined));
    }
  });
  client.onCsiRemove(async (r) => {
    say(`CSI remove ${r.csi}`);
    await stopServing();
  });
  client.onHealthcheck((key) => {
    const fail = process.env.FAIL_HEALTHCHECK_FILE;
    if (fail && existsSync(fail)) throw new Error(`healthcheck ${key}: told to fail`);
  });
  client.onTerminate(async () => {
    say('terminate');
    await stopServing();
    setTimeout(() => process.exit(0), 20);
  });
  client.onClose(() => {
    say('agent connection closed; exiting');
    process.exit(1);
  });
  process.on('SIGUSR1', () => void client.errorReport('component-restart', 'SIGUSR1: simulated internal error').catch(() => undefined));

  await client.register();
  say(`registered as ${client.comp}`);
  const key = process.env.HEALTHCHECK_KEY;
  if (key) await client.healthcheckStart(key, { invocation: 'amf' });
}

main().catch((e: unknown) => {
  say(`fatal: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
});
