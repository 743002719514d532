/**
 * A small network of network namespaces for the real-process tests: one namespace per node, each
 * with an address on a bridge in the host's namespace (which has one too, so this process reaches
 * every node's API). Cutting a node unplugs its cable (its bridge port goes down): its packets
 * are lost below the process, in both directions, as in a real split. Needs root and iproute2;
 * `open` says why when the machine does not allow it.
 */
import { spawnSync } from 'node:child_process';

export interface NetnsNetwork {
  /** Per node: its address and namespace (LocalClusterOptions.hosts). */
  readonly hosts: ReadonlyArray<{ readonly address: string; readonly netns: string }>;
  /** Unplug node i (0-based) from the bridge: nothing reaches it or leaves it. */
  cut(i: number): void;
  /** Plug it back in. */
  heal(i: number): void;
  /** Remove the namespaces, cables and bridge; safe to call twice. */
  destroy(): void;
}

const PREFIX = 'amfdp';

function ip(args: readonly string[]): { ok: true; out: string } | { ok: false; error: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.error) return { ok: false, error: `ip ${args.join(' ')}: ${r.error.message}` };
  if (r.status !== 0) return { ok: false, error: `ip ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.status}`}` };
  return { ok: true, out: r.stdout };
}

function must(args: readonly string[]): string {
  const r = ip(args);
  if (!r.ok) throw new Error(r.error);
  return r.out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Namespaces and bridges an earlier test process (now dead) left behind: named for its pid. */
function sweepStale(): void {
  const owner = (name: string): number | undefined => {
    const m = new RegExp(`^${PREFIX}(\\d+)`).exec(name);
    return m ? Number(m[1]) : undefined;
  };
  const ns = ip(['netns', 'list']);
  if (ns.ok) {
    for (const line of ns.out.split('\n')) {
      const name = line.split(' ')[0] ?? '';
      const pid = owner(name);
      if (pid !== undefined && pid !== process.pid && !alive(pid)) ip(['netns', 'del', name]);
    }
  }
  const links = ip(['-o', 'link', 'show', 'type', 'bridge']);
  if (links.ok) {
    for (const line of links.out.split('\n')) {
      const name = /^\d+: ([^:@]+)/.exec(line)?.[1] ?? '';
      const pid = owner(name);
      if (pid !== undefined && pid !== process.pid && !alive(pid)) ip(['link', 'del', name]);
    }
  }
}

/** A /24 in 10.251.0.0/16 that no route of this host covers yet. */
function freeSubnet(): string | undefined {
  const routes = must(['-4', 'route', 'show', 'table', 'all']);
  for (let k = 0; k < 250; k++) {
    const third = (process.pid + k) % 250;
    const net = `10.251.${third}`;
    if (!routes.includes(`${net}.`)) return net;
  }
  return undefined;
}

/**
 * Build the network for `nodes` nodes, or say why it cannot be built here (not root, no iproute2,
 * namespaces or bridges not allowed). On a failure half way, whatever was made is removed.
 */
export function openNetns(nodes: number): { ok: true; value: NetnsNetwork } | { ok: false; error: string } {
  if (process.getuid?.() !== 0) return { ok: false, error: 'network namespaces need root' };
  const probe = ip(['netns', 'list']);
  if (!probe.ok) return probe;
  sweepStale();
  // Interface names are at most 15 characters: amfdp<pid>br, amfdp<pid>v<i>.
  const tag = `${PREFIX}${process.pid}`;
  const bridge = `${tag}br`;
  const namespaces = Array.from({ length: nodes }, (_, i) => `${tag}n${i + 1}`);
  const cables = Array.from({ length: nodes }, (_, i) => `${tag}v${i + 1}`);
  const made: { bridge: boolean; ns: string[] } = { bridge: false, ns: [] };
  const destroy = (): void => {
    for (const ns of made.ns.splice(0)) ip(['netns', 'del', ns]);
    if (made.bridge) {
      ip(['link', 'del', bridge]);
      made.bridge = false;
    }
  };
  try {
    const net = freeSubnet();
    if (net === undefined) return { ok: false, error: 'no free /24 in 10.251.0.0/16 for the test network' };
    must(['link', 'add', bridge, 'type', 'bridge']);
    made.bridge = true;
    must(['addr', 'add', `${net}.254/24`, 'dev', bridge]);
    must(['link', 'set', bridge, 'up']);
    namespaces.forEach((ns, i) => {
      must(['netns', 'add', ns]);
      made.ns.push(ns);
      must(['link', 'add', cables[i]!, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      must(['link', 'set', cables[i]!, 'master', bridge, 'up']);
      must(['-n', ns, 'addr', 'add', `${net}.${i + 1}/24`, 'dev', 'eth0']);
      must(['-n', ns, 'link', 'set', 'eth0', 'up']);
      must(['-n', ns, 'link', 'set', 'lo', 'up']);
    });
    return {
      ok: true,
      value: {
        hosts: namespaces.map((netns, i) => ({ address: `${net}.${i + 1}`, netns })),
        cut: (i) => void must(['link', 'set', cables[i]!, 'down']),
        heal: (i) => void must(['link', 'set', cables[i]!, 'up']),
        destroy,
      },
    };
  } catch (e) {
    destroy();
    return { ok: false, error: (e as Error).message };
  }
}
