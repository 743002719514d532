import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { NodeClock } from '../../src/runtime/node/clock.js';
import { NodeProcessRunner } from '../../src/runtime/node/process.js';
import { migrateDomain, type MigrateOptions } from '../../src/vm/migrate.js';
import { Virsh } from '../../src/vm/virsh.js';
import { openNetns } from '../e2e/netns.js';
import { quietPorts } from '../runtime/node-fixtures.js';
import type { AmfCommand, AmfInput } from '../../src/amf/commands.js';
import { logger, makeDir, model, oneComponentConf, startAgent, type TestAgent } from '../agent/harness.js';
import { StandaloneLoop } from '../agent/standalone.js';
import { ensureGuest, libvirtdMissing, TestLibvirtd, writeDomain, type Guest } from './harness/index.js';

const ports = quietPorts();
const runner = new NodeProcessRunner(ports);
const clock = new NodeClock();
const OPTS: MigrateOptions = { retries: 3, timeoutMs: 5000, checkTries: 3, checkDelayMs: 20 };

/**
 * A scripted virsh for two libvirts: host:///a and host:///b, each a directory of running domains
 * (one file per domain holding its UUID). Every call is logged. `migrate` fails while the
 * fail-count file says so; `both` leaves a copy on each end; `lose` drops it on the way.
 */
const FAKE = `#!/bin/sh
uri=$2; cmd=$3; shift 3
d="$FAKE/$(echo "$uri" | sed 's|.*///||')"
echo "$uri $cmd $*" >> "$FAKE/calls"
case $cmd in
dominfo)
  [ -f "$d/$1" ] || { echo "error: failed to get domain '$1'" >&2; exit 1; }
  printf 'Id:             3\\nName:           %s\\nUUID:           %s\\nState:          running\\nPersistent:     no\\n\\n' "$1" "$(cat "$d/$1")" ;;
destroy) rm -f "$d/$1" ;;
migrate)
  name=$2; to="$FAKE/$(echo "$3" | sed 's|.*///||')"
  n=$(cat "$FAKE/fail-count" 2>/dev/null || echo 0)
  if [ "$n" -gt 0 ]; then echo $((n - 1)) > "$FAKE/fail-count"; echo "error: operation failed: migration job: unexpectedly failed" >&2; exit 1; fi
  mode=$(cat "$FAKE/mode" 2>/dev/null)
  [ "$mode" = lose ] && { rm -f "$d/$name"; exit 0; }
  cp "$d/$name" "$to/$name"
  [ "$mode" = both ] && { echo "error: migration job: canceled" >&2; exit 1; }
  rm -f "$d/$name" ;;
*) echo "fake virsh: $cmd?" >&2; exit 2 ;;
esac
`;

describe('the migrate protocol against a scripted two-ended virsh', () => {
  let dir: string;
  let src: Virsh;
  let dst: Virsh;
  // NodeClock's timers do not hold the event loop open (a daemon has its sockets for that).
  let keepAlive: NodeJS.Timeout;
  before(() => {
    keepAlive = setInterval(() => undefined, 1000);
    dir = mkdtempSync(join(tmpdir(), 'amfd-migrate-'));
    writeFileSync(join(dir, 'virsh'), FAKE);
    chmodSync(join(dir, 'virsh'), 0o755);
    const ctx = { processes: runner, log: ports.logger, virsh: join(dir, 'virsh'), env: { PATH: '/usr/bin:/bin', FAKE: dir }, timeoutMs: 5000, killGraceMs: 200, label: 'component vm1' };
    src = new Virsh({ ...ctx, uri: 'host:///a' });
    dst = new Virsh({ ...ctx, uri: 'host:///b' });
  });
  after(() => {
    clearInterval(keepAlive);
    rmSync(dir, { recursive: true, force: true });
  });
  const reset = (opts: { failCount?: number; mode?: string; onB?: boolean } = {}): void => {
    for (const d of ['a', 'b']) {
      rmSync(join(dir, d), { recursive: true, force: true });
      mkdirSync(join(dir, d));
    }
    writeFileSync(join(dir, 'a', 'vm1'), '11111111-2222-3333-4444-555555555555');
    if (opts.onB) writeFileSync(join(dir, 'b', 'vm1'), '99999999-2222-3333-4444-555555555555');
    writeFileSync(join(dir, 'fail-count'), String(opts.failCount ?? 0));
    writeFileSync(join(dir, 'mode'), opts.mode ?? '');
    writeFileSync(join(dir, 'calls'), '');
  };
  const calls = (): string[] => readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');
  const running = (end: 'a' | 'b'): boolean => existsSync(join(dir, end, 'vm1'));

  it('migrates: dominfo both ends first, migrate --live, dominfo on the source (gone), then on the destination', async () => {
    reset();
    const r = await migrateDomain(src, dst, 'vm1', OPTS, clock, ports.logger);
    assert.ok(r.ok && r.value.attempts === 1 && r.value.info.uuid === '11111111-2222-3333-4444-555555555555', JSON.stringify(r));
    assert.deepEqual(calls(), ['host:///a dominfo vm1', 'host:///b dominfo vm1', 'host:///a migrate --live vm1 host:///b', 'host:///a dominfo vm1', 'host:///b dominfo vm1']);
    assert.deepEqual([running('a'), running('b')], [false, true]);
  });

  it('retries while the source still has it, up to the limit', async () => {
    reset({ failCount: 2 });
    const r = await migrateDomain(src, dst, 'vm1', OPTS, clock, ports.logger);
    assert.ok(r.ok && r.value.attempts === 3, JSON.stringify(r));
    assert.equal(calls().filter((c) => c.includes(' migrate ')).length, 3);
    reset({ failCount: 10 });
    const f = await migrateDomain(src, dst, 'vm1', OPTS, clock, ports.logger);
    assert.ok(!f.ok && f.error.kind === 'failed', JSON.stringify(f));
    assert.match(f.error.message, /^component vm1: migrate 'vm1' from host:\/\/\/a to host:\/\/\/b: still on the source after 4 attempts; last: .*unexpectedly failed/);
    assert.equal(calls().filter((c) => c.includes(' migrate ')).length, 4, '1 + migration_retries (3)');
    assert.deepEqual([running('a'), running('b')], [true, false]);
  });

  it('refused, with no attempt, when the destination already has a domain of that name or the source has none', async () => {
    reset({ onB: true });
    const r = await migrateDomain(src, dst, 'vm1', OPTS, clock, ports.logger);
    assert.ok(!r.ok && r.error.kind === 'refused' && /the destination already has a domain of that name/.test(r.error.message), JSON.stringify(r));
    assert.ok(!calls().some((c) => c.includes(' migrate ')));
    reset();
    rmSync(join(dir, 'a', 'vm1'));
    const none = await migrateDomain(src, dst, 'vm1', OPTS, clock, ports.logger);
    assert.ok(!none.ok && none.error.kind === 'refused' && /does not run on the source/.test(none.error.message));
  });

  it('never two copies: a failed attempt that left one at the destination has it destroyed there', async () => {
    reset({ mode: 'both', failCount: 0 });
    writeFileSync(join(dir, 'mode'), 'both');
    const r = await migrateDomain(src, dst, 'vm1', { ...OPTS, retries: 0 }, clock, ports.logger);
    assert.ok(!r.ok && r.error.kind === 'failed');
    assert.ok(calls().includes('host:///b destroy vm1'));
    assert.deepEqual([running('a'), running('b')], [true, false]);
  });

  it('gone from the source and not on the destination: lost, said so', async () => {
    reset({ mode: 'lose' });
    const r = await migrateDomain(src, dst, 'vm1', OPTS, clock, ports.logger);
    assert.ok(!r.ok && r.error.kind === 'lost' && /not running on the destination after 3 dominfo checks/.test(r.error.message), JSON.stringify(r));
  });
});

const noDaemon = libvirtdMissing();
const built = noDaemon === undefined ? ensureGuest() : undefined;
const noVm = noDaemon ?? (built && 'reason' in built ? built.reason : undefined);
/** Nodes n1 and n2; a noredundancy SU that may run on either, of one vm component; `uri`: that node's own libvirt. */
function clusterConf(xml: string, uri: string, migrationUri: string, stateDir: string): string {
  const kind = `instantiate_timeout = 60s
			vm {
				domain_xml = ${xml}
				uri = ${uri}
				migration_uri = ${migrationUri}
				state_dir = ${stateDir}
			}`;
  return `node {\n\tname = n1\n}\nnode {\n\tname = n2\n}\n${oneComponentConf(kind, 'vm', 'nodes = n1 n2')}`;
}

// Admin migrate for real, engine and agents: the AMF engine drives the agents of n1 and n2 (one
// process, StandaloneLoop), each agent with its own test libvirtd in its own network namespace.
// The SU's domain runs on n1 with si1 active; migrate to n2: n1's agent migrates it live and forgets
// it, n2's adopts it by UUID, and si1 is set active again there — it is never anything but active
// on su1 (no failover). First a migration that fails (a same-named domain at the destination).
test('admin migrate for real: the engine and the agents of two nodes, two libvirtds in two network namespaces', { skip: noVm ?? false, timeout: 300_000 }, async (t) => {
  const net = openNetns(2);
  if (!net.ok) return t.skip(`two network namespaces cannot be made here: ${net.error}`);
  const dir = mkdtempSync(join(tmpdir(), 'amfd-migrate-real-'));
  const daemons: TestLibvirtd[] = [];
  const agents: TestAgent[] = [];
  const keepAlive = setInterval(() => undefined, 1000);
  let loop: StandaloneLoop | undefined;
  try {
    for (const [i, h] of net.value.hosts.entries()) daemons.push(await TestLibvirtd.start({ dir: join(dir, `n${i + 1}`), netns: h.netns, migrationHost: h.address }));
    const [a, b] = daemons as [TestLibvirtd, TestLibvirtd];
    const f = writeDomain({ name: 'mig-real', guest: (built as { guest: Guest }).guest, dir: join(dir, 'vm'), hostRoot: false });
    // {node} in migration_uri: the destination node's libvirt, here the socket of its test libvirtd.
    const template = a.uri.replace(join(dir, 'n1'), join(dir, '{node}'));
    assert.notEqual(template, a.uri);
    for (const [node, d] of [['n1', a], ['n2', b]] as const) {
      agents.push(await startAgent(makeDir(), model(dir, clusterConf(f.xmlPath, d.uri, template, join(dir, `state-${node}`)))));
    }
    const [n1, n2] = agents as [TestAgent, TestAgent];
    const engineModel = model(dir, clusterConf(f.xmlPath, a.uri, template, join(dir, 'state-n1')));
    loop = new StandaloneLoop(engineModel, n1.agent, 'n1', clock, logger);
    loop.addNode(n2.agent, 'n2');
    const l = loop;
    const inputs: AmfInput[] = [];
    const commands: AmfCommand[] = [];
    const refusals: string[] = [];
    /** Every HA state si1 had on su1 after each step (it must only ever be active once assigned). */
    const haSeen = new Set<string>();
    l.onInput((i) => inputs.push(i));
    l.onCommand((c) => {
      commands.push(c);
      const ha = l.state.sus.su1?.assignments.si1?.ha;
      if (ha !== undefined) haSeen.add(ha);
    });
    l.onRefusal((_, e) => refusals.push(e));
    const until = async (what: string, pred: () => boolean, ms = 120_000): Promise<void> => {
      const end = Date.now() + ms;
      while (!pred()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}; inputs: ${JSON.stringify(inputs.slice(-8))}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    const activeOn = (node: string): (() => boolean) => {
      const from = commands.length;
      return () => commands.slice(from).some((c) => c.kind === 'csi-set' && c.node === node && c.haState === 'active') && l.state.sus.su1?.assignments.si1?.waiting.length === 0;
    };
    const migrate = (to: string): void => l.input({ kind: 'admin', op: 'migrate', target: { type: 'su', name: 'su1' }, to });

    let active = activeOn('n1');
    l.start();
    await until('si1 active on su1 at n1', active);
    const uuid = a.virsh('domuuid', 'mig-real').stdout.trim();

    migrate('n9');
    await until('the refusal', () => refusals.length === 1);
    assert.match(refusals[0]!, /^migrate on SU su1 refused: no node n9$/);
    // The agent asked for a destination whose libvirt is down: refused before any attempt, named;
    // the domain stays, recorded and watched on n1.
    const nowhere = await n1.agent.migrate('su1', 'vm', 'n9');
    assert.ok(!nowhere.ok && !nowhere.error.lost, JSON.stringify(nowhere));
    assert.match(nowhere.error.reason, /^component safComp=vm,safSu=su1.* \(domain XML .*mig-real\.xml\): migrate 'mig-real' from .* to .*n9.*: dominfo on the destination: /);
    assert.deepEqual([a.domains(), n1.agent.presence('su1', 'vm')], [['mig-real'], 'instantiated']);
    assert.ok(existsSync(join(dir, 'state-n1', 'su1.vm.json')), 'still recorded on the source');

    // A same-named domain at the destination: the agent refuses before any attempt; su1 stays on n1.
    assert.equal(b.virsh('create', f.xmlPath).status, 0);
    active = activeOn('n1');
    migrate('n2');
    await until('the failed migration', () => inputs.some((i) => i.kind === 'comp-migrate-failed'));
    const failed = inputs.find((i) => i.kind === 'comp-migrate-failed');
    assert.ok(failed?.kind === 'comp-migrate-failed' && !failed.lost && /the destination already has a domain of that name/.test(failed.reason), JSON.stringify(failed));
    await until('si1 confirmed active at n1 again', active);
    assert.equal(l.state.sus.su1?.node, 'n1');
    assert.deepEqual(a.domains(), ['mig-real']);
    assert.equal(b.virsh('destroy', 'mig-real').status, 0);

    active = activeOn('n2');
    const t0 = Date.now();
    migrate('n2');
    await until('si1 active on su1 at n2', active);
    console.log(`# admin migrate → si1 active again on the destination ${Date.now() - t0} ms (TCG, 256 MiB guest)`);
    assert.equal(l.state.sus.su1?.node, 'n2');
    assert.equal(l.state.sus.su1?.migration, undefined);
    assert.deepEqual([a.domains(), b.domains()], [[], ['mig-real']]);
    assert.equal(b.virsh('domuuid', 'mig-real').stdout.trim(), uuid, 'the same domain, not a new one');
    assert.deepEqual([...haSeen], ['active'], 'si1 was only ever active on su1: no failover, no quiescing');
    assert.ok(!commands.some((c) => c.kind === 'comp-cleanup' || c.kind === 'comp-terminate' || c.kind === 'csi-remove'), 'nothing stopped, nothing removed');
    assert.equal(JSON.parse(readFileSync(join(dir, 'state-n2', 'su1.vm.json'), 'utf8')).uuid, uuid);
    assert.ok(!existsSync(join(dir, 'state-n1', 'su1.vm.json')), "the source's state file is gone");
    assert.equal(n1.agent.presence('su1', 'vm'), 'uninstantiated');

    // n2's agent watches it now: a destroy behind its back is reported from there.
    const seen = inputs.length;
    assert.equal(b.virsh('destroy', 'mig-real').status, 0);
    await until('the death reported', () => inputs.slice(seen).some((i) => i.kind === 'error-report' && i.su === 'su1'), 20_000);
    l.stop();
  } finally {
    loop?.stop();
    clearInterval(keepAlive);
    for (const x of agents) await x.close();
    for (const d of daemons) await d.stop();
    net.value.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});
