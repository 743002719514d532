/**
 * The node flags every amfd process runs with. They must be on node's command line: V8 sizes
 * its heap and worker pool when the isolate is created, so main.ts cannot set them for itself
 * (v8.setFlagsFromString is too late; a growth factor set at run time did not hold). Every
 * launcher passes them: bin/amfd.js's shebang, conf/amfd.service, the Dockerfile's CMD and
 * LocalCluster (npm start, e2e tests, bench:cluster); test/daemon/node-flags.test.ts keeps those
 * in step with this list, and main.ts warns when amfd was started without them.
 * - `--max-semi-space-size=1`: V8 doubles its young generation up to 16 MiB per semi-space under
 *   allocation bursts (start-up, a failover) and the touched pages stay resident: ~11 MB of an
 *   idle amfd's RSS. amfd allocates little; a 1 MiB nursery costs only more, shorter scavenges.
 * - `--v8-pool-size=1`: one V8 worker thread instead of four; each thread that mallocs keeps its
 *   own glibc arena, and those arenas were 3 to 9 MB of idle RSS, varying from run to run.
 * Figures: docs/operations.md, "Memory".
 */
export const AMFD_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=1', '--v8-pool-size=1'];

/** The flags of AMFD_NODE_FLAGS this process was started without (node's argv or NODE_OPTIONS). */
export function missingNodeFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = new Set([...execArgv, ...(nodeOptions ?? '').split(/\s+/)]);
  return AMFD_NODE_FLAGS.filter((f) => !given.has(f));
}
