/**
 * amfd with the partition hook of the real-process tests (faults.ts): what LocalCluster runs for a
 * test that cuts links with AMFD_FAULT_FILE. The product's entry (src/daemon/main.ts) has no hook.
 */
import { runAmfd } from '../../src/daemon/run.js';
import { PartitionHook } from './faults.js';

const file = process.env['AMFD_FAULT_FILE'];
if (file === undefined || file === '') {
  process.stderr.write('amfd-faults: set AMFD_FAULT_FILE to the JSON file of peers to cut\n');
  process.exit(2);
}
await runAmfd(new PartitionHook(file));
