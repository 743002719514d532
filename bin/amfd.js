#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=1
// The node flags are src/daemon/node-flags.ts's AMFD_NODE_FLAGS (a test keeps them in step).
import { launch } from './launch.js';
await launch('src/daemon/main');
