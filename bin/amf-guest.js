#!/usr/bin/env node
// The guest heartbeat client (runs inside a VM; docs/guest-heartbeat.md).
import { launch } from './launch.js';
await launch('src/cli/amf-guest');
