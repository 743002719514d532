/** The `amfd` entry point (bin/amfd.js runs it). */
import { runAmfd } from './run.js';

await runAmfd();
