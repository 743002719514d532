import { assert } from '../../util/assert.js';

/** An assertion whose message is built only when it fails: for the hot paths of the core. */
export function check(condition: unknown, message: () => string): asserts condition {
  if (!condition) assert(false, message());
}
