/**
 * The guest heartbeat in a real amfd (single node, bootstrap_expect 1): each SU's component is a
 * real bin/amf-guest process with a `guest_heartbeat { channel }` block, its channel a ChannelRelay
 * in QEMU's place. Shown: the heartbeat state replicated into /v1/groups, the event stream, /metrics
 * and amfctl status; `amfctl admin lock` of the active SU vetoed by the guest's event script with
 * its reason (nothing changes), accepted once the script agrees and followed by the irrevocable
 * notification; a frozen guest (SIGSTOP) lost and recovered by the AMF (corrective action reboot:
 * component restart, a new guest process heartbeating again). Every wait is for a condition.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GroupView } from '../../src/api/backend.js';
import { ApiClient } from '../../src/cli/ctl/client.js';
import { EXIT } from '../../src/cli/ctl/exit.js';
import { processCtlIo } from '../../src/cli/ctl/io.js';
import { showStatus } from '../../src/cli/ctl/status.js';
import { runAdmin } from '../../src/cli/ctl/admin.js';
import { freePort } from '../../scripts/local-cluster.js';
import { oneNode2nConf, readLines } from '../api/helpers.js';
import { ChannelRelay } from './relay.js';
import { ROOT } from './real-guest.js';
import { until } from './wait.js';

const TOKEN = 'heartbeat-daemon-token';
const SUS = ['SU_1', 'SU_2'] as const;

const groupsConf = (dir: string): string =>
  oneNode2nConf({
    group: 'app',
    si: 'app_si',
    csi: 'c',
    type: 'app',
    body: (name) =>
      `\t\t\tname = guest\n\t\t\tcommand = /bin/sh -c "echo $$ > ${dir}/${name}.pid; exec ${process.execPath} ${ROOT}/bin/amf-guest.js --config ${dir}/${name}.conf --device ${dir}/${name}.guest.sock --api-socket ${dir}/${name}.api.sock --name ${name}"\n\t\t\trecovery_on_error = component-restart\n\t\t\tguest_heartbeat {\n\t\t\t\tchannel = ${dir}/${name}.host.sock\n\t\t\t}\n`,
  });

test('real amfd: replicated guest heartbeat state, a lock vetoed by the guest with its reason, then accepted and notified; a frozen guest lost and restarted', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'amfd-hb-daemon-'));
  const relays = new Map<string, ChannelRelay>();
  for (const su of SUS) {
    const script = join(dir, `${su}.event.sh`);
    writeFileSync(script, `#!/bin/sh\necho "$1 $2" >> ${dir}/${su}.calls\nif [ "$1" = revocable ] && [ -f ${dir}/${su}.no ]; then echo "${su}: standby not in sync"; exit 1; fi\nexit 0\n`);
    chmodSync(script, 0o755);
    writeFileSync(join(dir, `${su}.conf`), `HB_INTERVAL=1000\nCORRECTIVE_ACTION="reboot"\nVOTE=2\nSHUTDOWN_NOTICE=2\nEVENT_NOTIFICATION_SCRIPT="${script}"\n`);
    const relay = new ChannelRelay(join(dir, `${su}.host.sock`), join(dir, `${su}.guest.sock`));
    await relay.start();
    relays.set(su, relay);
  }
  writeFileSync(join(dir, 'groups.conf'), groupsConf(dir));
  const [swim, raft, rpc] = [await freePort(), await freePort(), await freePort()];
  const args = ['--node-name', 'n1', '--data-dir', join(dir, 'data'), '--swim-bind', `127.0.0.1:${swim}`, '--raft-bind', `127.0.0.1:${raft}`, '--rpc-bind', `127.0.0.1:${rpc}`, '--api-bind', '127.0.0.1:0', '--bootstrap-expect', '1', '--groups-conf', join(dir, 'groups.conf'), '--log-level', 'warn'];
  const daemon = spawn(process.execPath, [join(ROOT, 'bin/amfd.js'), ...args], { cwd: dir, env: { ...process.env, AMFD_API_TOKEN: TOKEN }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  // Its log (stdout) and stderr, the last of it printed when the test fails.
  const keep = (c: Buffer): void => void (stderr = (stderr + c.toString()).slice(-20_000));
  daemon.stdout.on('data', keep);
  daemon.stderr.on('data', keep);
  const exited = new Promise<number | null>((resolve) => daemon.once('exit', (code) => resolve(code)));
  const pidOf = (su: string): number => Number(readFileSync(join(dir, `${su}.pid`), 'utf8'));
  const calls = (su: string): string[] => (existsSync(join(dir, `${su}.calls`)) ? readFileSync(join(dir, `${su}.calls`), 'utf8').trim().split('\n') : []);
  t.after(async () => {
    if (daemon.exitCode !== null) console.log(`# amfd exited with ${daemon.exitCode}: ${stderr.slice(-4000)}`);
    for (const su of SUS) {
      try {
        process.kill(pidOf(su), 'SIGCONT');
      } catch {
        // not started or gone
      }
    }
    if (daemon.exitCode === null) daemon.kill('SIGTERM');
    await exited;
    // A guest amfd did not stop (it died first) would hold its relay open.
    for (const su of SUS) {
      try {
        process.kill(pidOf(su), 'SIGKILL');
      } catch {
        // stopped with amfd
      }
    }
    for (const r of relays.values()) await r.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const addrFile = join(dir, 'data', 'amfd.addr.json');
  await until(`amfd to start (${stderr})`, () => existsSync(addrFile), 60_000);
  const api = (JSON.parse(readFileSync(addrFile, 'utf8')) as { api: string }).api;
  const req = (path: string, init: RequestInit = {}): Promise<Response> => fetch(`http://${api}${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...(init.headers as Record<string, string> | undefined) } });
  let latest: GroupView[] = [];
  const refresh = async (): Promise<GroupView[]> => {
    try {
      return (latest = ((await (await req('/v1/groups')).json()) as { groups: GroupView[] }).groups);
    } catch (e) {
      throw new Error(`GET /v1/groups at ${new Date().toISOString()}: ${String(e)} ${String((e as { cause?: unknown }).cause)}`);
    }
  };
  const unit = (su: string): GroupView['units'][number] | undefined => latest[0]?.units.find((u) => u.name === su);
  const hb = (su: string): string | undefined => unit(su)?.components[0]?.guestHeartbeat?.status;
  const poll = async (what: string, cond: () => boolean, ms = 120_000): Promise<void> => {
    const end = Date.now() + ms;
    while (!(await refresh(), cond())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(latest)}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  await poll('both guests heartbeating and app_si assigned', () => hb('SU_1') === 'enabled' && hb('SU_2') === 'enabled' && latest[0]?.sis[0]?.assignment === 'fully-assigned');
  const active = unit('SU_1')?.assignments[0]?.ha === 'active' ? 'SU_1' : 'SU_2';
  assert.equal(unit(active)?.components[0]?.guestHeartbeat?.node, 'n1');
  const metrics = await (await req('/metrics')).text();
  assert.match(metrics, /amfd_guest_heartbeat_guests\{status="enabled",node="n1"\} 2/);

  const out: string[] = [];
  const errs: string[] = [];
  const io = { ...processCtlIo(undefined, { AMFCTL_ADDR: api, AMFCTL_TOKEN: TOKEN }), interactive: false, stdout: (s: string) => void out.push(s), stderr: (s: string) => void errs.push(s) };
  const c = await ApiClient.create({}, io);
  assert.ok(c.ok);
  assert.equal(await showStatus(c.value, false, io), EXIT.ok);
  assert.match(out.join(''), /guest\s+.*guest enabled/, out.join(''));

  await t.test('amfctl admin lock of the active SU: the guest votes no, the lock is refused with its reason and nothing changes', async () => {
    writeFileSync(join(dir, `${active}.no`), '');
    errs.length = 0;
    assert.equal(await runAdmin(c.value, 'lock', active, io), EXIT.refused, errs.join(''));
    assert.match(errs.join(''), new RegExp(`lock on SU ${active} refused: ${active}/guest on n1 vetoed it \\(guest-heartbeat\\): the guest rejected stop: ${active}: standby not in sync`));
    await refresh();
    assert.equal(unit(active)?.admin, 'unlocked');
    assert.equal(unit(active)?.assignments[0]?.ha, 'active');
    assert.deepEqual(calls(active), ['revocable stop']);
  });

  await t.test('the guest agrees: it is told (irrevocable stop) before the lock is committed; unlock brings it back', async () => {
    rmSync(join(dir, `${active}.no`));
    errs.length = 0;
    assert.equal(await runAdmin(c.value, 'lock', active, io), EXIT.ok, errs.join(''));
    assert.deepEqual(calls(active), ['revocable stop', 'revocable stop', 'irrevocable stop']);
    await poll('locked, the other SU active', () => unit(active)?.admin === 'locked' && unit(active === 'SU_1' ? 'SU_2' : 'SU_1')?.assignments[0]?.ha === 'active');
    assert.equal(await runAdmin(c.value, 'unlock', active, io), EXIT.ok, errs.join(''));
    await poll('unlocked and heartbeating', () => unit(active)?.admin === 'unlocked' && hb(active) === 'enabled');
  });

  await t.test('a frozen guest (SIGSTOP) is lost after 2 misses; the AMF restarts the component (reboot) and the new guest heartbeats', { timeout: 120_000 }, async () => {
    await refresh();
    const su = 'SU_2';
    const status = ((await (await req('/status')).json()) as { lastEventSeq: number }).lastEventSeq;
    const stream = await req(`/v1/events?since=${status}`);
    const pid = pidOf(su);
    process.kill(pid, 'SIGSTOP');
    const isHb = (l: Record<string, unknown>, re: RegExp): boolean => l['entity'] === `comp/${su}/guest` && l['field'] === 'guest-heartbeat' && re.test(String(l['new']));
    // A change's new value is the status, then the reason when there is one ('lost: …').
    const story = await readLines(stream, (l, all) => isHb(l, /^enabled/) && all.some((x) => isHb(x, /^lost/)));
    const lines = story.filter((l) => 'seq' in l).map((l) => `${String(l['field'])} ${String(l['old'])}->${String(l['new'])}`);
    const at = (re: RegExp): number => lines.findIndex((l) => re.test(l));
    const lost = at(/^guest-heartbeat missed->lost/);
    const recovery = at(/^recovery null->component-restart/);
    assert.ok(at(/^guest-heartbeat enabled->missed/) >= 0 && lost >= 0 && recovery > lost, lines.join('\n'));
    await poll('a new guest process', () => existsSync(join(dir, `${su}.pid`)) && pidOf(su) !== pid && hb(su) === 'enabled');
    out.length = 0;
    assert.equal(await showStatus(c.value, false, io), EXIT.ok);
    assert.match(out.join(''), /guest-heartbeat.*lost/, 'the loss is among the recent failures');
  });
});
