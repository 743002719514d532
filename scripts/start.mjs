#!/usr/bin/env node
// `npm start`: a 3-node amfd cluster on this machine (scripts/start.ts); `-- --headless` for tests.
import { launch } from '../bin/launch.js';
import { buildWeb } from './build-web.mjs';

// The web console from the sources as they are now (unchanged files are not rewritten).
try {
  buildWeb();
} catch (e) {
  process.stderr.write(`npm start: the web console was not rebuilt: ${e instanceof Error ? e.message : String(e)}\n`);
}
await launch('scripts/start');
