import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SERVER_GROUP_ADDR } from '../../src/servergroup/envelope.js';
import { ServerGroupRelay } from '../../src/servergroup/relay.js';
import { DB, STATUSES, WEB } from './fixtures.js';

const bcast = (data: string): string =>
  JSON.stringify({ data: { version: 2, msg_type: 'broadcast', data }, version: 2, dest_addr: SERVER_GROUP_ADDR, source_addr: SERVER_GROUP_ADDR });

function relay(): ServerGroupRelay {
  const r = new ServerGroupRelay('n1');
  r.setView([WEB, DB], STATUSES);
  return r;
}

describe('ServerGroupRelay', () => {
  it('rate-limits a flooding guest, counts what it drops, nacks once a second, and lets the others talk', () => {
    const r = relay();
    let delivered = 0;
    let limited = 0;
    let nacks = 0;
    for (let i = 0; i < 1000; i++) {
      const res = r.fromGuest('instance-vm1', bcast(`flood ${i}`), 5000);
      delivered += res.out.filter((o) => o.kind === 'guest' && o.instance === 'instance-vm2').length;
      limited += res.drops.filter((d) => d.reason === 'rate-limit').length;
      nacks += res.out.filter((o) => o.kind === 'guest' && o.instance === 'instance-vm1' && o.line.includes('"msg_type":"nack"')).length;
    }
    assert.equal(delivered, WEB.broadcastBurst, 'the burst goes through');
    assert.equal(limited, 1000 - WEB.broadcastBurst, 'every other one is dropped and counted');
    assert.equal(nacks, 1, 'one nack for the whole second');
    // vm2 has its own bucket.
    const other = r.fromGuest('instance-vm2', bcast('still here'), 5000);
    assert.deepEqual(other.out.map((o) => (o.kind === 'guest' ? o.instance : o.node)), ['instance-vm1', 'n2']);
    // A second later vm1 has tokens again; its next refusal nacks with the count since the last nack.
    let after = 0;
    let nack = '';
    for (let i = 0; i < 200; i++) {
      const res = r.fromGuest('instance-vm1', bcast('later'), 6000);
      after += res.out.filter((o) => o.kind === 'guest' && o.instance === 'instance-vm2').length;
      for (const o of res.out) if (o.kind === 'guest' && o.instance === 'instance-vm1') nack = o.line;
    }
    assert.equal(after, WEB.broadcastBurst);
    assert.match(nack, /rate limit: 980 message\(s\) dropped, above 100 messages\/s \(burst 20\)/);
  });

  it('tells the members it hosts about a peer, never the peer itself nor another group', () => {
    const r = relay();
    const res = r.notify([{ group: 'web', instance: 'instance-vm2', event: 'failed', data: { payload: { instance_id: 'instance-vm2' } } }]);
    assert.deepEqual(
      res.out.map((o) => (o.kind === 'guest' ? o.instance : '')),
      ['instance-vm1'],
      'vm1 is on n1; vm2 is the subject; vm3 is told by n2; db1 is in another group',
    );
    assert.match((res.out[0] as { line: string }).line, /"msg_type":"notification","data":\{"payload":\{"instance_id":"instance-vm2"\}\}/);
  });

  it('knows which members this node hosts from the committed placement', () => {
    assert.deepEqual(
      relay()
        .localMembers()
        .map((m) => m.instance),
      ['instance-vm1', 'instance-vm2', 'instance-db1'],
    );
  });

  it('answers a line the channel dropped with a nack', () => {
    const res = relay().guestLineDropped('instance-vm1', { reason: 'too-long', bytes: 30000 }, 0);
    assert.equal(res.out.length, 1);
    assert.match((res.out[0] as { line: string }).line, /message of 30000 bytes or more dropped: above the line limit/);
  });
});

describe('ServerGroupRelay packets', () => {
  it('splits the members of one node over several packets when they do not fit in one', async () => {
    const { decodePeerBroadcast } = await import('../../src/servergroup/peer-wire.js');
    const members = Array.from({ length: 401 }, (_, i) => ({ instance: `instance-${String(i).padStart(8, '0')}`, su: `su${i}`, comp: 'vm', displayName: `m${i}`, channel: `/run/m${i}.sock` }));
    const big = { ...WEB, name: 'big', members };
    const statuses = new Map([...STATUSES]);
    for (const [i, m] of members.entries()) statuses.set(m.instance, { ...STATUSES.get('instance-vm1')!, instance_id: m.instance, host: i === 0 ? 'n1' : 'n2' });
    const r = new ServerGroupRelay('n1', 4096);
    r.setView([big], statuses);
    const res = r.fromGuest(members[0]!.instance, bcast('y'.repeat(3050)), 0);
    const packets = res.out.filter((o) => o.kind === 'peer');
    assert.ok(packets.length > 1);
    const dests: string[] = [];
    for (const p of packets) {
      assert.ok(p.kind === 'peer' && p.payload.length <= 4096, 'each packet fits');
      const d = decodePeerBroadcast((p as { payload: Uint8Array }).payload);
      assert.ok(d.ok);
      dests.push(...d.value.dests);
    }
    assert.deepEqual(dests, members.slice(1).map((m) => m.instance), 'every other member exactly once');
  });
});

describe('ServerGroupRelay status', () => {
  it('lists the members placed on a node (never-started ones are not servers yet), the asker always', () => {
    const r = new ServerGroupRelay('n1');
    const statuses = new Map(STATUSES);
    statuses.set('instance-vm3', { ...STATUSES.get('instance-vm3')!, host: null, node: null, state: 'stopped', state_description: 'uninstantiated' });
    r.setView([WEB, DB], statuses);
    const res = r.fromGuest('instance-vm1', JSON.stringify({ data: { version: 2, msg_type: 'status_query', seq: 3 }, version: 2, dest_addr: SERVER_GROUP_ADDR, source_addr: SERVER_GROUP_ADDR }), 0);
    const ids = res.out.map((o) => (o.kind === 'guest' ? (JSON.parse(o.line) as { data: { data?: { instance_id: string } } }).data.data?.instance_id ?? 'done' : ''));
    assert.deepEqual(ids, ['instance-vm1', 'instance-vm2', 'done']);
  });
});
