#!/usr/bin/env node
// amfd with the e2e tests' partition hook (amfd-faults.ts): LocalCluster's entry for fault runs.
import { launch } from '../../bin/launch.js';
await launch('test/e2e/amfd-faults');
