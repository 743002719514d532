/**
 * The seed's validation (server-group-messaging.txt, steps a to g) on a real 3-node cluster, and
 * the failure notifications after it. The three members' guests differ by test: guest agents as
 * components on the host (daemon.test.ts) or inside real VMs (vm.test.ts); either way the apps
 * are real `server-group-app` processes. Each step waits for conditions, never for time.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { ServerGroupMemberView } from '../../src/api/backend.js';
import { ROOT, type LocalCluster } from '../../scripts/local-cluster.js';
import { waitFor } from '../e2e/harness.js';

/** Generous: three amfd, three guests and their apps share two loaded cores. */
export const STEP_MS = 90_000;

/** One running `server-group-app`: what it printed, line by line. */
export class App {
  readonly out: string[] = [];
  private readonly child: ChildProcess;
  private tail = '';

  constructor(
    readonly name: string,
    /** How to run it: the argv before the app's own arguments, and its environment. */
    run: { readonly argv: readonly string[]; readonly env: Record<string, string> },
    arg?: string,
  ) {
    const [file, ...args] = [...run.argv, ...(arg === undefined ? [] : [arg])];
    this.child = spawn(file!, args, { env: { ...process.env, ...run.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.on('error', (e) => this.out.push(`spawn error: ${e.message}`));
    const take = (chunk: Buffer): void => {
      const text = this.tail + chunk.toString('utf8');
      const lines = text.split('\n');
      this.tail = lines.pop() ?? '';
      for (const l of lines) if (l !== '') this.out.push(l);
    };
    this.child.stdout?.on('data', take);
    this.child.stderr?.on('data', take);
  }

  /** The lines that match, once at least `n` do. */
  async saw(what: string, re: RegExp, n = 1): Promise<string[]> {
    try {
      return await waitFor(`${this.name}: ${what}`, STEP_MS, async () => {
        const hits = this.out.filter((l) => re.test(l));
        return hits.length >= n ? hits : undefined;
      });
    } catch (e) {
      throw new Error(`${(e as Error).message}; it printed:\n${this.out.join('\n')}`);
    }
  }

  /** The status records of the `n`-th status response it printed (1-based), by instance id. */
  statusOf(line: string): string[] {
    const json = line.slice(line.indexOf('msg: ') + 'msg: '.length);
    const list = JSON.parse(json) as Array<{ instance_id: string }>;
    return list.map((s) => s.instance_id).sort();
  }

  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/**
 * Three nodes, three single-unit groups g1..g3 (unit sgN pinned to nN, one SI each) whose
 * component `guest` runs `amf-sg-agent --listen <dir>/sgN.ch --app-socket <dir>/sgN.app` in
 * QEMU's place, members instance-1..3 of server group `group`. `startLocked`: sg2 and sg3 start
 * `locked-instantiation` (the seed's steps start them one by one).
 */
export function hostAgentsConf(dir: string, group: string, o: { readonly startLocked?: boolean; readonly rate?: number; readonly burst?: number } = {}): string {
  const nodes = [1, 2, 3].map((i) => `node {\n\tname = n${i}\n}\n`).join('');
  const agent = (i: number): string => `${process.execPath} ${join(ROOT, 'bin/amf-sg-agent.js')} --listen ${join(dir, `sg${i}.ch`)} --app-socket ${join(dir, `sg${i}.app`)}`;
  const groups = [1, 2, 3]
    .map(
      (i) =>
        `group {\n\tname = g${i}\n\tmodel = noredundancy\n\tunit {\n\t\tname = sg${i}\n\t\tnode = n${i}\n${i !== 1 && o.startLocked === true ? '\t\tadmin_state = locked-instantiation\n' : ''}` +
        `\t\tcomponent {\n\t\t\tname = guest\n\t\t\tcommand = ${agent(i)}\n\t\t\tcsi_type_name {\n\t\t\t\tname = t\n\t\t\t}\n\t\t}\n\t}\n` +
        `\tserviceinstance {\n\t\tname = si${i}\n\t\tcsi_descriptor {\n\t\t\tcsi_name = c${i}\n\t\t\ttype_name = t\n\t\t}\n\t}\n}\n`,
    )
    .join('');
  const members = [1, 2, 3].map((i) => `\tmember {\n\t\tunit = sg${i}\n\t\tcomponent = guest\n\t\tchannel = ${join(dir, `sg${i}.ch`)}\n\t\tinstance = instance-${i}\n\t}\n`).join('');
  const limits = `${o.rate === undefined ? '' : `\tbroadcast_rate = ${o.rate}\n`}${o.burst === undefined ? '' : `\tbroadcast_burst = ${o.burst}\n`}`;
  return `${nodes}${groups}server_group {\n\tname = ${group}\n\tpolicy = affinity\n${limits}${members}}\n`;
}

/** `server-group-app` of this tree, as a host process talking to a guest agent's app socket. */
export function hostApp(appSocket: string): { argv: string[]; env: Record<string, string> } {
  return { argv: [process.execPath, join(ROOT, 'bin/server-group-app.js')], env: { AMF_SG_SOCKET: appSocket } };
}

export async function membersOn(c: LocalCluster, node: string, group: string): Promise<readonly ServerGroupMemberView[] | undefined> {
  return (await c.get<{ members: ServerGroupMemberView[] }>(node, `/v1/server-groups/${group}`))?.members;
}

/** Until the node hosting `instance` holds its channel connected. */
export async function channelUp(c: LocalCluster, node: string, group: string, instance: string): Promise<void> {
  await waitFor(`${instance}'s channel connected on ${node}`, STEP_MS, async () => {
    const m = (await membersOn(c, node, group))?.find((x) => x.instance === instance);
    return m?.host === node && m.channel?.state === 'connected' ? true : undefined;
  });
}

export async function admin(c: LocalCluster, via: string, su: string, op: string): Promise<void> {
  await waitFor(`${op} of ${su} accepted`, STEP_MS, async () => ((await c.post(via, `/v1/admin/su/${su}/${op}`, {})) === 200 ? true : undefined));
}

const BCAST = (text: string, from: string): RegExp => new RegExp(`^got server group broadcast msg: len: \\d+, sinstance: ${from}, msg: ${text}$`);
const NOTE = (instance: string, event: string): RegExp => new RegExp(`^got server group notification msg: .*"instance_id":"${instance}".*"event":"${event}"`);
const STATUS = /^got server group status response msg: /;

export interface Member {
  readonly su: string;
  readonly instance: string;
  readonly node: string;
  /** How to run server-group-app in this member's guest. */
  readonly app: { readonly argv: readonly string[]; readonly env: Record<string, string> };
}

/**
 * Steps a) to g): members[0] runs from the start, members[1] and [2] are started here (their SUs
 * `locked-instantiation` in the configuration); then a member failure and a node loss. Returns the
 * apps (the caller stops them).
 */
export async function seedValidation(c: LocalCluster, group: string, members: readonly Member[], apps: App[], log: (s: string) => void): Promise<void> {
  const [m1, m2, m3] = members;
  assert.ok(m1 && m2 && m3);
  const via = m1.node;
  // a), b): the group exists; the first server runs.
  await channelUp(c, m1.node, group, m1.instance);
  // c) the first app sees its own status at once.
  const a1 = new App('app1', m1.app);
  apps.push(a1);
  const [s1] = await a1.saw('its status', STATUS);
  assert.deepEqual(a1.statusOf(s1!), [m1.instance]);
  log('c) app1 saw its own status');
  // d) a second server starts: the first hears it.
  await admin(c, via, m2.su, 'unlock-instantiation');
  await admin(c, via, m2.su, 'unlock');
  await a1.saw(`notification of ${m2.instance}`, NOTE(m2.instance, 'instantiated'));
  await channelUp(c, m2.node, group, m2.instance);
  log('d) app1 heard the second start');
  // e) "this is a test" from the second: the first receives it, the second's status lists both.
  const a2 = new App('app2 "this is a test"', m2.app, 'this is a test');
  apps.push(a2);
  await a1.saw('"this is a test"', BCAST('this is a test', m2.instance));
  const [s2] = await a2.saw('its status', STATUS);
  assert.deepEqual(a2.statusOf(s2!), [m1.instance, m2.instance].sort());
  log('e) app1 got "this is a test"; app2 saw both');
  // f) a third server starts: the other two hear it (its first app runs there, listening).
  await admin(c, via, m3.su, 'unlock-instantiation');
  await admin(c, via, m3.su, 'unlock');
  await a1.saw(`notification of ${m3.instance}`, NOTE(m3.instance, 'instantiated'));
  await a2.saw(`notification of ${m3.instance}`, NOTE(m3.instance, 'instantiated'));
  await channelUp(c, m3.node, group, m3.instance);
  const a3 = new App('app3', m3.app);
  apps.push(a3);
  await a3.saw('its status', STATUS);
  log('f) app1 and app2 heard the third start');
  // g) "final test" from the second: both others receive it, its status lists all three.
  const a2b = new App('app2 "final test"', m2.app, 'final test');
  apps.push(a2b);
  await a1.saw('"final test"', BCAST('final test', m2.instance));
  await a3.saw('"final test"', BCAST('final test', m2.instance));
  const [s3] = await a2b.saw('its status', STATUS);
  assert.deepEqual(a2b.statusOf(s3!), members.map((m) => m.instance).sort());
  assert.equal(a2.out.filter((l) => BCAST('final test', m2.instance).test(l)).length, 0, 'a member never hears its own broadcast');
  log('g) app1 and app3 got "final test"; app2 saw all three');
}

/** Its node's amfd is killed: the members elsewhere hear that the member's host is lost. */
export async function nodeLoss(c: LocalCluster, victim: Member, others: readonly App[], log: (s: string) => void): Promise<void> {
  const t0 = Date.now();
  c.kill(victim.node);
  for (const a of others) await a.saw(`node-lost of ${victim.instance}`, NOTE(victim.instance, 'node-lost'));
  log(`amfd of ${victim.node} killed: the others heard ${victim.instance}'s host lost after ${Date.now() - t0} ms`);
}
