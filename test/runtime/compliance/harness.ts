/**
 * The harness the port compliance suites run on. The same suites run against the Node
 * implementations (real time, real sockets, real processes) and the simulated ones (virtual
 * time), so a suite never sleeps or polls on its own: every wait goes through the Harness, which
 * drives real or virtual time.
 */
import type { DatagramNetwork } from '../../../src/runtime/ports/datagram.js';
import type { ProcessRunner } from '../../../src/runtime/ports/process.js';
import type { BlobStore, DurableStore } from '../../../src/runtime/ports/storage.js';
import type { StreamNetwork } from '../../../src/runtime/ports/stream.js';

export interface Harness {
  /**
   * Drive time until cond() holds. Rejects with an Error naming `what` once timeoutMs of that
   * time (real or virtual) has passed without it holding.
   */
  waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void>;
  /** Let ms of (real or virtual) time pass. */
  sleep(ms: number): Promise<void>;
}

/** Every fixture is made fresh per test and disposed after it (closes what the test left open). */
export interface Fixture {
  readonly harness: Harness;
  dispose(): Promise<void>;
}

export interface DatagramFixture extends Fixture {
  /** Two networks (two hosts in the simulator; the same loopback host on Node). */
  readonly a: DatagramNetwork;
  readonly b: DatagramNetwork;
  /** Bind addresses with port 0, e.g. '127.0.0.1:0' on Node, 'a:0' in the simulator. */
  readonly addrA: string;
  readonly addrB: string;
}

export interface StreamFixture extends Fixture {
  /**
   * The server side should be made with a small maxFrameSize (e.g. 1 MiB) and the client with a
   * larger one: the oversized-frame test sends server.maxFrameSize + 1 bytes.
   */
  readonly server: StreamNetwork;
  readonly client: StreamNetwork;
  /** Where the server listens, with port 0 ('127.0.0.1:0' / 'b:0'). */
  readonly listenAddress: string;
  /** An address the client can reach but where nothing listens: connect must fail with 'refused'. */
  readonly refusedAddress: string;
  /**
   * An address where a connect attempt gets no answer at all (SYNs dropped), so connect must
   * fail with 'timeout'. Optional: when absent the timeout test is skipped.
   */
  readonly blackholeAddress?: string;
}

/** What to run: argv and the base environment the program needs (e.g. PATH); tests add to env. */
export interface Program {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/**
 * Program builders: real shell scripts on Node, scripted processes in the simulator. Each
 * describes what the program does so both sides can implement it.
 */
export interface Programs {
  /** Sleep afterMs, then exit with code. */
  exit(code: number, afterMs: number): Program;
  /** Run until killed (SIGTERM ends it). */
  hang(): Program;
  /** Ignore SIGTERM; only SIGKILL ends it. */
  ignoreTerm(): Program;
  /**
   * Start a grandchild that runs until killed, then hang. grandchildPid() returns the
   * grandchild's pid once it is known (undefined before), while the program still runs.
   */
  withGrandchild(): { readonly program: Program; grandchildPid(): number | undefined };
  /** Print the value of env var `name` to stdout, or the exact text '<unset>' if it is not set; exit 0. */
  printEnv(name: string): Program;
  /** Write exactly `bytes` bytes of 'x' to stdout and the same to stderr; exit 0. */
  output(bytes: number): Program;
  /** An executable that does not exist: spawn must return err({ kind: 'not-found' }). */
  missing(): Program;
}

export interface ProcessFixture extends Fixture {
  readonly runner: ProcessRunner;
  readonly programs: Programs;
}

export interface StoreFixture extends Fixture {
  /** Open the store over the fixture's data (a fresh one on the first call, the same data after). */
  open(): Promise<DurableStore>;
  /**
   * Crash the process holding the store opened last: it must not be used again, and whatever
   * was not made durable by a resolved flush() may be lost. open() again to recover.
   */
  crash(): Promise<void>;
  /** The blob store over the fixture's data, if the implementation has one (blob tests skip otherwise). */
  openBlobs?(): Promise<BlobStore>;
}

/** Run fn with a fixture made for this test and always disposed after it. */
export async function withFixture<F extends Fixture>(make: () => Promise<F>, fn: (f: F) => Promise<void>): Promise<void> {
  const f = await make();
  try {
    await fn(f);
  } finally {
    await f.dispose();
  }
}

/** Bytes with a recognisable pattern (position and seed mixed), to detect reordering or corruption. */
export function pattern(length: number, seed = 0): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 17 + (i >>> 8)) & 0xff;
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function fromUtf8(b: Uint8Array): string {
  return new TextDecoder().decode(b);
}
