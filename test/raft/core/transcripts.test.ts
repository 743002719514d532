/**
 * Transcript tests (etcd-io/raft testdata style): each scenario prints every Ready and message to a
 * transcript compared with test/raft/core/testdata/<name>.txt, and asserts the facts that matter
 * so a regression fails even when someone re-records the transcripts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Net } from './harness.js';
import type { Message } from '../../../src/raft/core/index.js';

const to = (id: string) => (m: Message) => m.to === id;

function term(net: Net, id: string): number {
  return net.node(id).raw.status().hardState.term;
}

function commit(net: Net, id: string): number {
  return net.node(id).raw.status().hardState.commit;
}

test('election: a follower times out, pre-votes, wins, and commits its noop', () => {
  const net = new Net({ electionTicks: 10 });
  net.bootstrap(['1', '2', '3']);
  net.elect('1');
  net.state();
  assert.equal(net.leader(), '1');
  assert.equal(term(net, '2'), 2);
  assert.equal(commit(net, '3'), 4);
  net.check('election');
});

test('pre-vote: a partitioned node does not disrupt the cluster when it rejoins', () => {
  const net = new Net({ electionTicks: 10 });
  net.bootstrap(['1', '2', '3']);
  net.elect('1');
  net.isolate('3');
  net.propose('1', 'a', 'b');
  net.stabilize();
  net.log('3 times out again and again while cut off: pre-votes fail, its term stays');
  net.quiet = true;
  for (let i = 0; i < 50; i++) {
    net.tickAll();
    net.stabilize();
  }
  net.quiet = false;
  net.state();
  assert.equal(term(net, '3'), 2, 'pre-vote kept the isolated node at its term');
  net.heal();
  net.log('3 campaigns on rejoin: the others are in a leader lease and its log is behind');
  net.node('3').raw.campaign();
  net.stabilize();
  net.run(3);
  net.state();
  assert.equal(net.leader(), '1');
  assert.equal(term(net, '1'), 2, 'the leader was never deposed');
  assert.equal(net.fsm('3'), 'a,b');

  net.log('without pre-vote and check-quorum the same rejoin deposes the leader');
  const bad = new Net({ electionTicks: 10, preVote: false, checkQuorum: false });
  bad.quiet = true;
  bad.bootstrap(['1', '2', '3']);
  bad.elect('1');
  bad.isolate('3');
  for (let i = 0; i < 50; i++) {
    bad.tickAll();
    bad.stabilize();
  }
  bad.heal();
  bad.run(30);
  net.log(`  without pre-vote: isolated node reached term ${term(bad, '3')}, leader term now ${term(bad, bad.leader() ?? '1')}`);
  assert.ok(term(bad, '3') > 2, 'without pre-vote the isolated node inflates its term');
  net.check('prevote');
});

test('check-quorum: a leader that hears no quorum for a full election timeout steps down', () => {
  const net = new Net({ electionTicks: 10 });
  net.bootstrap(['1', '2', '3']);
  net.elect('1');
  net.isolate('1');
  net.log('tick the leader without answers: the next check-quorum round (at most two election timeouts) finds no quorum');
  let ticks = 0;
  while (net.node('1').raw.status().softState.role === 'leader' && ticks < 30) {
    net.tick('1');
    ticks++;
    net.ready('1');
    net.queue = []; // heartbeats into the partition are lost
  }
  net.log(`stepped down after ${ticks} ticks (election timeout 10)`);
  assert.equal(net.node('1').raw.status().softState.role, 'follower');
  assert.ok(ticks <= 20);
  net.log('the other two elect a new leader');
  net.quiet = true;
  for (let i = 0; i < 40 && (net.leader() === '1' || net.leader() === undefined); i++) {
    net.tickAll();
    net.stabilize();
  }
  net.quiet = false;
  net.state();
  const l = net.leader();
  assert.ok(l === '2' || l === '3');
  net.heal();
  net.run(3);
  net.state();
  assert.equal(net.node('1').raw.status().softState.leader, l);
  net.check('checkquorum');
});

test('conflict resolution: a deposed leader loses its uncommitted suffix through fast backtracking', () => {
  const net = new Net({ electionTicks: 10 });
  net.bootstrap(['1', '2', '3']);
  net.elect('1');
  net.isolate('1');
  net.log('the old leader appends entries nobody else will ever see');
  net.propose('1', 'x1', 'x2', 'x3');
  net.propose('1', 'x4', 'x5');
  net.quiet = true;
  net.stabilize();
  for (let i = 0; i < 40 && (net.leader() === '1' || net.leader() === undefined); i++) {
    net.tickAll();
    net.stabilize();
  }
  const l0 = net.leader();
  assert.ok(l0 === '2' || l0 === '3');
  net.propose(l0, 'y1', 'y2', 'y3');
  net.stabilize();
  // Hand leadership to the other one so the new leader's first probe to 1 starts past the fork.
  const l = l0 === '2' ? '3' : '2';
  assert.ok(net.node(l0).raw.transferLeadership(l).ok);
  net.stabilize();
  assert.equal(net.leader(), l);
  net.quiet = false;
  net.state();
  net.heal();
  net.log('heal: the new leader probes the old one, which rejects with a hint');
  net.tickAll();
  net.stabilize();
  net.state();
  assert.equal(net.fsm('1'), 'y1,y2,y3');
  const logOf = (id: string) => {
    const st = net.node(id).storage;
    return st.entries(1, st.lastIndex() + 1).map((e) => `${e.index}/${e.term}`);
  };
  assert.deepEqual(logOf('1'), logOf(l));
  net.check('conflict');
});

test('figure 8: an old-term entry on a majority is not committed until the leader commits one of its own term', () => {
  const cfg = { electionTicks: 10, preVote: false, checkQuorum: false, maxEntriesPerMsg: 1 };
  const ids = ['1', '2', '3', '4', '5'];
  const isVote = (m: Message) => m.type === 'requestVote' || m.type === 'requestVoteResponse';
  const between = (x: string, ys: string[]) => (m: Message) =>
    (m.from === x && ys.includes(m.to)) || (m.to === x && ys.includes(m.from));
  /** Campaign with only vote traffic flowing until `id` leads (a lost round is retried at a higher term). */
  const win = (net: Net, id: string): void => {
    for (let attempt = 0; attempt < 3 && net.node(id).raw.status().softState.role !== 'leader'; attempt++) {
      net.node(id).raw.campaign();
      for (let k = 0; k < 4; k++) {
        net.readyAll();
        net.deliver(isVote);
      }
    }
    net.ready(id);
    assert.equal(net.node(id).raw.status().softState.role, 'leader');
  };
  const run = (extendInTerm: boolean): Net => {
    const net = new Net(cfg);
    net.bootstrap(ids);
    net.elect('1');
    net.log('(a) 1 appends x at index 7 and only 2 receives it');
    net.propose('1', 'x');
    net.ready('1');
    net.deliver(to('2'));
    net.ready('2');
    net.queue = [];
    net.log('(b) 1 crashes; 5 wins with votes from 3 and 4, appends its noop at 7 locally only, and crashes');
    net.isolate('1');
    net.partition(['5'], ['2']);
    win(net, '5');
    net.queue = [];
    net.crash('5');
    net.heal();
    net.isolate('5');
    net.crash('1');
    net.log('(c) 1 restarts and wins (2, 3, 4 vote); it sends one entry per message, to 2 and 3 only');
    win(net, '1');
    for (let i = 0; i < 10; i++) {
      net.readyAll();
      net.deliver(between('1', ['2', '3']));
      const st3 = net.node('3').storage;
      if (st3.lastIndex() >= 7 && st3.term(7) === 2) break;
    }
    net.readyAll();
    net.state();
    assert.equal(net.node('3').storage.term(7), 2, 'index 7 (term 2) is now on 1, 2 and 3: a majority');
    assert.equal(commit(net, '1'), 6, 'yet the leader does not commit an entry of an older term by counting');
    if (extendInTerm) {
      net.log('(e) 1 also gets its own entry 8 (term 4) to 3: now 8 commits, and 7 with it');
      for (let i = 0; i < 10 && commit(net, '1') < 8; i++) {
        net.tick('1');
        net.readyAll();
        net.deliver(between('1', ['2', '3']));
      }
      net.readyAll();
      assert.equal(commit(net, '1'), 8);
      net.state();
      net.log('5 returns and campaigns: 2 and 3 hold a newer log, so it cannot win');
      net.queue = [];
      net.heal();
      net.isolate('1');
      net.node('5').raw.campaign();
      net.stabilize();
      assert.notEqual(net.node('5').raw.status().softState.role, 'leader');
    } else {
      net.log('(d) 1 crashes before 8 spreads; 5 returns and wins with 3 and 4, overwriting index 7 everywhere');
      net.queue = [];
      net.heal();
      net.isolate('1');
      win(net, '5');
      net.stabilize();
      net.tick('5');
      net.stabilize();
      for (const id of ['2', '3', '4', '5']) assert.equal(net.node(id).storage.term(7), 3, `index 7 replaced on ${id}`);
    }
    net.state();
    return net;
  };
  run(false).check('figure8-overwrite');
  run(true).check('figure8-commit');
});

test('snapshot: a lagging follower is caught up with a chunked InstallSnapshot, surviving a lost chunk', () => {
  const net = new Net({ electionTicks: 10, trailingLogs: 0, snapshotChunkSize: 64 });
  net.bootstrap(['1', '2', '3']);
  net.elect('1');
  net.isolate('3');
  for (let i = 0; i < 4; i++) net.propose('1', `v${i}`);
  net.quiet = true;
  net.stabilize();
  net.quiet = false;
  net.snapshot('1');
  net.heal();
  net.log('heal: 3 needs compacted entries, so the leader streams the snapshot');
  const isChunk = (m: Message) => m.type === 'installSnapshot';
  net.tick('1');
  for (let i = 0; i < 10; i++) {
    net.readyAll();
    if (net.queue.some(isChunk)) break;
    net.deliver();
  }
  net.log('deliver the first chunk and its answer');
  net.deliver(isChunk);
  net.readyAll();
  net.deliver();
  net.readyAll();
  net.log('the second chunk is lost; a heartbeat answer makes the leader resend from what 3 confirmed');
  const lost = net.queue.filter(isChunk);
  assert.equal(lost.length, 1);
  assert.equal((lost[0] as { offset: number }).offset, 64);
  net.queue = net.queue.filter((m) => !isChunk(m));
  net.tick('1');
  net.stabilize();
  net.propose('1', 'after');
  net.stabilize();
  net.state();
  assert.equal(net.fsm('3'), 'v0,v1,v2,v3,after');
  assert.equal(net.node('3').storage.snapshot().meta.index, net.node('1').storage.snapshot().meta.index);
  net.check('snapshot');
});

test('membership: add learner, promote, remove a voter, demote, add a new voter, remove the leader', () => {
  const net = new Net({ electionTicks: 10 });
  net.bootstrap(['1', '2', '3']);
  net.elect('1');
  net.addEmpty('4', 4);
  net.proposeConf('1', 'addLearner', '4');
  net.stabilize();
  net.propose('1', 'a');
  net.stabilize();
  assert.deepEqual(net.node('4').raw.confState, { voters: ['1', '2', '3'], learners: ['4'] });
  assert.equal(net.fsm('4'), 'a');
  net.log('a learner does not campaign, however long it waits');
  net.isolate('4');
  net.quiet = true;
  for (let i = 0; i < 60; i++) net.tick('4');
  net.readyAll();
  net.quiet = false;
  assert.equal(net.node('4').raw.status().softState.role, 'follower');
  net.heal();
  net.proposeConf('1', 'addVoter', '4');
  net.proposeConf('1', 'removeNode', '3');
  net.stabilize();
  net.proposeConf('1', 'removeNode', '3');
  net.stabilize();
  net.proposeConf('1', 'addLearner', '2');
  net.stabilize();
  assert.deepEqual(net.node('1').raw.confState, { voters: ['1', '4'], learners: ['2'] });
  net.proposeConf('1', 'addVoter', '2');
  net.stabilize();
  net.log('add a brand-new server directly as a voter: it catches up from the bootstrap entries');
  net.addEmpty('5', 5);
  net.proposeConf('1', 'addVoter', '5');
  net.stabilize();
  assert.deepEqual(net.node('5').raw.confState, { voters: ['1', '2', '4', '5'], learners: [] });
  assert.equal(net.fsm('5'), 'a');
  net.log('remove the leader: once the change applies it hands off (TimeoutNow) to the most caught-up voter');
  net.proposeConf('1', 'removeNode', '1');
  net.stabilize();
  net.state();
  const l = net.leader();
  assert.ok(l === '2' || l === '4' || l === '5');
  assert.equal(term(net, l), 3);
  net.log('the old leader is told nothing more (not a member) and steps down after an election timeout');
  for (let i = 0; i < 10; i++) net.tick('1');
  net.readyAll();
  net.queue = net.queue.filter((m) => m.from !== '1');
  assert.equal(net.node('1').raw.status().softState.role, 'follower');
  net.propose(l, 'b');
  net.stabilize();
  for (const id of ['2', '4', '5']) assert.equal(net.fsm(id), 'a,b');
  assert.deepEqual(net.node(l).raw.confState, { voters: ['2', '4', '5'], learners: [] });
  net.check('membership');
});

test('leadership transfer: the leader catches the target up, sends TimeoutNow, the target wins despite the lease', () => {
  const net = new Net({ electionTicks: 10 });
  net.bootstrap(['1', '2', '3']);
  net.elect('1');
  net.isolate('3');
  net.propose('1', 'a');
  net.quiet = true;
  net.stabilize();
  net.quiet = false;
  net.heal();
  const r = net.node('1').raw.transferLeadership('3');
  assert.ok(r.ok);
  net.log('transfer to 3 (behind by one entry)');
  net.propose('1', 'refused');
  net.stabilize();
  net.state();
  assert.equal(net.leader(), '3');
  assert.equal(term(net, '1'), 3);
  net.propose('3', 'b');
  net.stabilize();
  assert.equal(net.fsm('1'), 'a,b');
  net.check('transfer');
});

test('ReadIndex: leader confirms with a heartbeat quorum; followers forward; reads fail on step-down', () => {
  const net = new Net({ electionTicks: 10 });
  net.bootstrap(['1', '2', '3']);
  net.node('1').raw.campaign();
  for (let i = 0; i < 10 && net.node('1').raw.status().softState.role !== 'leader'; i++) {
    net.readyAll();
    net.deliver();
  }
  net.log('read r0 on a fresh leader: it waits until the noop of its term commits');
  assert.ok(net.node('1').raw.readIndex('r0').ok);
  net.stabilize();
  assert.deepEqual(net.node('1').readStates, [{ index: 4, context: 'r0' }]);
  net.propose('1', 'a');
  net.stabilize();
  assert.ok(net.node('1').raw.readIndex('r1').ok);
  net.log('read r1 on the leader');
  net.stabilize();
  assert.deepEqual(net.node('1').readStates.at(-1), { index: 5, context: 'r1' });
  assert.ok(net.node('2').raw.readIndex('r2').ok);
  net.log('read r2 on follower 2 (forwarded)');
  net.stabilize();
  assert.deepEqual(net.node('2').readStates, [{ index: 5, context: 'r2' }]);
  net.log('read r3 while the leader is cut off: it never confirms, and fails when the leader steps down');
  net.isolate('1');
  assert.ok(net.node('1').raw.readIndex('r3').ok);
  for (let i = 0; i < 20; i++) {
    net.tick('1');
    net.ready('1');
    net.queue = [];
  }
  assert.deepEqual(net.node('1').readStates.at(-1), { index: 0, context: 'r3' });
  net.check('readindex');
});
