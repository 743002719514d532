/**
 * The driver registry and the controller's side of the ComponentDriver contract, with a scripted
 * driver registered for the `command` kind (what a new kind does: one driver, one registration).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defineDriver, type ComponentDriver, type DriverHost, type KindConfig, type StartRequest, type TerminateIntent } from '../../src/agent/drivers/driver.js';
import { BUILTIN_DRIVERS, DriverRegistry } from '../../src/agent/drivers/registry.js';
import { err, ok, type Result } from '../../src/util/result.js';
import { makeDir, model, oneComponentConf, startAgent, type TestAgent } from './harness.js';

/** A driver that records every call and does what the test tells it. */
class ScriptedDriver implements ComponentDriver {
  readonly kind = 'command';
  readonly probesEveryKey = false;
  readonly calls: string[] = [];
  start: StartRequest | undefined;
  died: ((reason: string) => void) | undefined;
  instantiateResult: Result<void, string> = ok(undefined);
  refuseCsi: string | undefined;
  veto: string | undefined;
  cleanupReason: string | undefined;
  killed: string[] = [];

  constructor(readonly host: DriverHost<KindConfig<'command'>>) {}

  get pid(): number | undefined {
    return undefined;
  }

  instantiate(req: StartRequest) {
    this.calls.push(`instantiate ${this.host.kind.argv.join(' ')} saAware=${req.saAware}`);
    this.start = req;
    const r = this.instantiateResult;
    return Promise.resolve(r.ok ? ok(undefined) : err({ reason: r.error, noRetry: false }));
  }

  monitor(died: (reason: string) => void): void {
    this.calls.push('monitor');
    this.died = died;
  }

  stopMonitoring(): void {
    this.calls.push('stopMonitoring');
  }

  leftovers() {
    this.calls.push('leftovers');
    return { kill: (how: 'terminate' | 'cleanup') => void this.killed.push(how) };
  }

  terminate(timeoutMs: number) {
    this.calls.push(`terminate ${timeoutMs}`);
    return Promise.resolve(ok(undefined));
  }

  cleanup(reason: string) {
    this.calls.push('cleanup');
    this.cleanupReason = reason;
    return Promise.resolve(ok(undefined));
  }

  commandProbe() {
    return err('no probe');
  }

  env() {
    return { SCRIPTED: '1' };
  }

  csiSet(a: { csi: string }) {
    this.calls.push(`csiSet ${a.csi}`);
    return Promise.resolve(this.refuseCsi === a.csi ? err(`refused ${a.csi}`) : ok(undefined));
  }

  csiRemove(_si: string, csi: string) {
    this.calls.push(`csiRemove ${csi}`);
    return Promise.resolve(ok(undefined));
  }

  preTerminate(intent: TerminateIntent) {
    this.calls.push(`preTerminate ${intent.action}`);
    return Promise.resolve(this.veto === undefined ? undefined : { by: 'scripted', reason: this.veto });
  }
}


const assignment = { si: 'si1', csi: 'csi1', csiType: 't', haState: 'active' as const, attributes: [] };

/** A registry whose `command` kind is the scripted driver; `made` collects every driver it makes. */
function scripted(setup: (d: ScriptedDriver) => void = () => undefined): { registry: DriverRegistry; made: ScriptedDriver[] } {
  const made: ScriptedDriver[] = [];
  const factory = defineDriver('command', (host) => {
    const d = new ScriptedDriver(host);
    setup(d);
    made.push(d);
    return d;
  });
  return { registry: new DriverRegistry([...BUILTIN_DRIVERS.filter((f) => f.kind !== 'command'), factory]), made };
}

/** An agent running `oneComponentConf(kind)` with these drivers, for the length of `body`. */
async function withAgent(kind: string, drivers: DriverRegistry, body: (t: TestAgent) => Promise<void>): Promise<void> {
  const dir = makeDir();
  const t = await startAgent(dir, model(dir, oneComponentConf(kind)), { drivers });
  try {
    await body(t);
  } finally {
    await t.close();
  }
}

describe('agent: driver registry', () => {
  it('holds the built-in kinds, one driver each', () => {
    const r = new DriverRegistry();
    assert.deepEqual(r.kinds().sort(), ['clccli', 'command', 'ocf', 'vm']);
    assert.ok(r.has('ocf'));
    assert.throws(() => new DriverRegistry([...BUILTIN_DRIVERS, BUILTIN_DRIVERS[0]!]), /has two drivers/);
  });

  it('a kind without a driver is refused with the component named, not crashed on', async () => {
    await withAgent('command = /bin/true', new DriverRegistry(BUILTIN_DRIVERS.filter((f) => f.kind !== 'command')), async (t) => {
      const r = await t.agent.instantiate('su1', 'c1');
      assert.ok(!r.ok && /safComp=c1,safSu=su1,safSg=g: no driver for component kind "command"/.test(r.error.reason), JSON.stringify(r));
    });
  });

  it('drives the registered driver through instantiate, monitor, CSI hooks, veto, terminate and cleanup', async () => {
    const { registry, made } = scripted();
    await withAgent('command = /bin/app --flag', registry, async (t) => {
      assert.ok((await t.agent.instantiate('su1', 'c1')).ok);
      const d = made[0]!;
      assert.equal(made.length, 1);
      assert.deepEqual(d.calls.splice(0), ['stopMonitoring', 'instantiate /bin/app --flag saAware=false', 'monitor']);
      assert.equal(d.host.env('instantiate').SCRIPTED, '1', "the kind's variables reach every script");
      assert.equal(t.agent.presence('su1', 'c1'), 'instantiated');

      d.refuseCsi = 'csi1';
      const refused = await t.agent.csiSet('su1', 'c1', assignment);
      assert.ok(!refused.ok && refused.error === 'refused csi1');
      assert.deepEqual(d.calls.splice(0), ['csiSet csi1']);
      d.refuseCsi = undefined;
      assert.ok((await t.agent.csiSet('su1', 'c1', assignment)).ok);
      assert.ok((await t.agent.csiRemove('su1', 'c1', 'si1', 'csi1')).ok);
      assert.ok((await t.agent.csiRemove('su1', 'c1', 'si1', 'csi1')).ok, 'a CSI not held is removed without the hook');
      assert.deepEqual(d.calls.splice(0), ['csiSet csi1', 'csiRemove csi1']);

      d.veto = 'the peer is not in sync';
      const voted = await t.agent.preTerminate('su1', 'c1', { action: 'stop', reason: 'lock' });
      assert.deepEqual(voted, ok({ by: 'scripted', reason: 'the peer is not in sync' }));
      assert.equal(t.agent.presence('su1', 'c1'), 'instantiated', 'a vote changes nothing by itself');
      d.veto = undefined;
      assert.deepEqual(await t.agent.preTerminate('su1', 'c1', { action: 'restart', reason: 'admin restart' }), ok(undefined));
      assert.deepEqual(d.calls.splice(0), ['preTerminate stop', 'preTerminate restart']);

      d.died?.('gone');
      d.died?.('gone again');
      const f = await t.waitFault((x) => x.kind === 'error-report');
      assert.ok(f.kind === 'error-report' && f.source === 'process-died' && f.reason === 'gone');
      assert.equal(t.faults.length, 1, 'a death is reported once per incarnation');

      assert.ok((await t.agent.cleanup('su1', 'c1', 'restart')).ok);
      assert.equal(d.cleanupReason, 'restart');
      assert.deepEqual(d.killed, ['cleanup']);
      assert.equal(t.agent.presence('su1', 'c1'), 'uninstantiated');
      const stale = d.died;
      assert.ok((await t.agent.instantiate('su1', 'c1')).ok);
      stale?.('late news from the last incarnation');
      assert.ok((await t.agent.terminate('su1', 'c1')).ok);
      assert.deepEqual(d.killed, ['cleanup', 'terminate']);
      assert.equal(t.faults.length, 1, 'a death seen after its incarnation ended is not reported');
      assert.ok(d.calls.includes('terminate 30000'), JSON.stringify(d.calls));
    });
  });

  it('a failed instantiation is cleaned up by the driver and reported with its reason', async () => {
    const { registry, made } = scripted((d) => (d.instantiateResult = err('no such domain')));
    await withAgent('command = /bin/app', registry, async (t) => {
      const r = await t.agent.instantiate('su1', 'c1');
      assert.ok(!r.ok && r.error.reason === 'no such domain');
      assert.equal(made[0]!.cleanupReason, 'instantiation-failed');
      assert.equal(t.agent.presence('su1', 'c1'), 'uninstantiated');
    });
  });

  it('a component whose kind changed is stopped by its old driver and started by the new one', async () => {
    const { registry, made } = scripted();
    await withAgent('command = /bin/app', registry, async (t) => {
      assert.ok((await t.agent.instantiate('su1', 'c1')).ok);
      t.agent.setModel(model(t.dir, oneComponentConf('ocf = amftest:Missing')));
      assert.ok((await t.agent.cleanup('su1', 'c1', 'reconfigured')).ok);
      assert.equal(made[0]!.cleanupReason, 'reconfigured', 'the running incarnation is stopped the way it was started');
      const r = await t.agent.instantiate('su1', 'c1');
      assert.ok(!r.ok && /OCF agent .*resource\.d\/amftest\/Missing is missing/.test(r.error.reason), JSON.stringify(r));
      assert.equal(made.length, 1, 'the new kind has its own driver');
    });
  });
});
