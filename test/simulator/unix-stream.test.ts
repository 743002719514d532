import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StreamCloseInfo, StreamConnection } from '../../src/runtime/ports/stream.js';
import type { NodePorts } from '../../src/runtime/node-ports.js';
import { Simulation } from '../../simulator/index.js';
import type { ProcessContext } from '../../simulator/process.js';

function machines(names: readonly string[]): Simulation {
  const sim = new Simulation({ seed: 1 });
  for (const n of names) sim.addNode(n, (p: NodePorts) => p);
  return sim;
}

/** Connect from a process of `node` (returns what it saw), so the socket belongs to the process. */
function client(sim: Simulation, node: string, address: string): { ctx: () => ProcessContext | undefined; result: () => string | undefined; conn: () => StreamConnection | undefined; closed: () => StreamCloseInfo | undefined } {
  let ctx: ProcessContext | undefined;
  let result: string | undefined;
  let conn: StreamConnection | undefined;
  let closed: StreamCloseInfo | undefined;
  const name = `test:client-${node}-${address}`;
  sim.programs.register(name, (c) => {
    ctx = c;
    void c.stream.connect(address, { timeoutMs: 1000 }).then((r) => {
      result = r.ok ? 'ok' : r.error.kind;
      if (r.ok) {
        conn = r.value;
        r.value.onClose((i) => (closed = i));
      }
    });
  });
  const table = sim.processTable(node);
  assert.ok(table.runner(table.machine).spawn({ argv: [name], env: {} }).ok);
  return { ctx: () => ctx, result: () => result, conn: () => conn, closed: () => closed };
}

test('unix sockets are per machine: the same path elsewhere is refused; a socket file is made and removed by close', async () => {
  const sim = machines(['a', 'b']);
  assert.ok(sim.files('a').mkdirp('/run/amfd', 0o755).ok);
  assert.ok(sim.files('b').mkdirp('/run/amfd', 0o755).ok);
  const l = await sim.ports('a').stream.listen('unix:/run/amfd/api.sock');
  const accepted: StreamConnection[] = [];
  l.onConnection((c) => accepted.push(c));
  const st = sim.files('a').stat('/run/amfd/api.sock');
  assert.ok(st.ok && !st.value.isFile && !st.value.isDirectory, 'a socket file, neither file nor directory');
  const local = client(sim, 'a', 'unix:/run/amfd/api.sock');
  const remote = client(sim, 'b', 'unix:/run/amfd/api.sock');
  await sim.runFor(10);
  assert.equal(local.result(), 'ok');
  assert.equal(remote.result(), 'refused', "b has no listener on its own /run/amfd/api.sock");
  assert.equal(accepted.length, 1);
  // Frames both ways; no link fault applies (a partition does not cut a machine from itself).
  sim.isolate('a');
  const got: string[] = [];
  accepted[0]!.onFrame((f) => got.push(Buffer.from(f).toString()));
  local.conn()!.send(Buffer.from('hello'));
  await sim.runFor(10);
  assert.deepEqual(got, ['hello']);
  await l.close();
  assert.equal(sim.files('a').stat('/run/amfd/api.sock').ok, false, 'close removes the socket file');
  await assert.rejects(sim.ports('a').stream.listen('unix:/nowhere/x.sock'), /ENOENT/);
});

test('a process that ends closes its sockets (the agent side sees the close); a daemon crash leaves a stale socket, refused until replaced', async () => {
  const sim = machines(['a']);
  sim.files('a').mkdirp('/run', 0o755);
  const l = await sim.ports('a').stream.listen('unix:/run/api.sock');
  const serverClosed: StreamCloseInfo[] = [];
  l.onConnection((c) => c.onClose((i) => serverClosed.push(i)));
  const c = client(sim, 'a', 'unix:/run/api.sock');
  await sim.runFor(10);
  assert.equal(c.result(), 'ok');
  c.ctx()!.exit(0);
  await sim.runFor(10);
  assert.deepEqual(serverClosed, [{ reason: 'peer' }]);
  assert.equal(c.closed(), undefined, 'the dead process hears nothing');

  // The daemon crashes, its processes live on: their connection is reset, the socket file stays.
  const survivor = client(sim, 'a', 'unix:/run/api.sock');
  await sim.runFor(10);
  assert.equal(survivor.result(), 'ok');
  sim.crash('a', { keepProcesses: true });
  await sim.runFor(10);
  assert.equal(survivor.closed()?.reason, 'error');
  assert.equal(survivor.ctx()!.alive, true);
  assert.equal(sim.files('a').stat('/run/api.sock').ok, true, 'a stale socket file');
  const late = client(sim, 'a', 'unix:/run/api.sock');
  await sim.runFor(10);
  assert.equal(late.result(), 'refused');
  // A new daemon must remove the stale file to listen again (EADDRINUSE otherwise), as on Linux.
  sim.start('a');
  await assert.rejects(sim.ports('a').stream.listen('unix:/run/api.sock'), /EADDRINUSE/);
  assert.ok(sim.files('a').remove('/run/api.sock').ok);
  await sim.ports('a').stream.listen('unix:/run/api.sock');
  // A machine crash empties /run.
  sim.crash('a');
  sim.start('a');
  assert.equal(sim.files('a').stat('/run/api.sock').ok, false);
});

test("a listener's maxFrameSize closes a connection that sends a bigger frame; paths are normalized", async () => {
  const sim = machines(['a']);
  sim.files('a').mkdirp('/run', 0o755);
  const l = await sim.ports('a').stream.listen('unix:/run/api.sock', { maxFrameSize: 16 });
  const closed: StreamCloseInfo[] = [];
  l.onConnection((c) => c.onClose((i) => closed.push(i)));
  const c = client(sim, 'a', 'unix:/run//./api.sock');
  await sim.runFor(10);
  assert.equal(c.result(), 'ok');
  c.conn()!.send(new Uint8Array(16));
  await sim.runFor(10);
  assert.equal(closed.length, 0);
  c.conn()!.send(new Uint8Array(17));
  await sim.runFor(10);
  assert.equal(closed[0]?.reason, 'frame-too-large');
});
