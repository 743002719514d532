/**
 * The deterministic simulator kernel: many amfd nodes in one process on virtual time, one seed.
 *
 *   const sim = new Simulation({ seed: 7, link: { loss: 0.1 } });
 *   sim.addNode('n1', (ports: NodePorts) => new MyApp(ports));   // called again on restart
 *   await sim.runFor(10_000);                                     // virtual ms
 *   sim.partition([['n1', 'n2'], ['n3']]); sim.crash('n1'); sim.restart('n1'); sim.pause('n2', 500);
 *   await sim.runUntil(() => converged(), 30_000);
 *   sim.traceHash();
 *
 * See docs/simulator.md for the fault model and the crash semantics.
 */
export { InvariantViolation, Simulation, type AppFactory, type CrashOptions, type SimulationOptions } from './simulation.js';
export { Domain, Scheduler, SYSTEM, type ScheduledEvent } from './scheduler.js';
export { DEFAULT_LINK, LinkModel, parseAddress, type LinkFaults } from './network.js';
export { DatagramFabric, DEFAULT_MAX_DATAGRAM } from './datagram.js';
export { DEFAULT_STREAM_OPTIONS, StreamFabric, type StreamOptions } from './stream.js';
export { DEFAULT_DISK_OPTIONS, SimDisk, compareKeys, type DiskOptions } from './storage.js';
export { ProcessTable, ProgramRegistry, type ProcessContext, type SimProgram } from './process.js';
export { Trace, fingerprint, fmtTime } from './trace.js';
export { FaultPlan, NO_FAULTS, formatFaults, parseFaults, type FaultCounts, type FaultPlanOptions, type FaultSpec } from './faults.js';
export { formatDuration, optionParser, parseDuration, parseSeeds, replayCommand } from './args.js';
export { MachineTime, SimClock, SIM_EPOCH_MS } from './clock.js';
