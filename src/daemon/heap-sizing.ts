/**
 * Keeps amfd's young generation at V8's initial size (1 MiB per semi-space). main.ts imports
 * this module first, so it runs before the modules load and before any scavenge could grow it.
 *
 * Why: V8 doubles the semi-spaces up to 16 MiB each under allocation bursts (start-up, a
 * failover), and the pages it touched stay resident; in an idle amfd that was ~14 MB of 85 MB
 * RSS, the largest single item. An idle daemon allocates little, so a small nursery costs a few
 * more (sub-millisecond) scavenges and nothing measurable in failover times (docs/operations.md).
 *
 * How: the semi-space maximum (`--max-semi-space-size`) is fixed when the isolate is created, so
 * setting it from inside the process has no effect; the growth factor is read at every growth
 * decision, and at 1 the new space never grows. One home: systemd, Docker, `npm start`, the
 * bench and the tests all start amfd through main.ts, whatever node flags they pass.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--semi-space-growth-factor=1');
