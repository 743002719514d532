#!/usr/bin/env node
// `npm start`: a 3-node amfd cluster on this machine (src/daemon/start.ts); `-- --headless` for tests.
import { launch } from '../bin/launch.js';
await launch('src/daemon/start');
