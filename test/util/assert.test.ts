import assert from 'node:assert/strict';
import { it } from 'node:test';
import { AssertionError, must } from '../../src/util/assert.js';

it('must: returns what it is given unless undefined or null (0, empty and false are values)', () => {
  for (const v of [0, '', false, [], {}]) assert.equal(must(v, 'x'), v);
  for (const v of [undefined, null]) assert.throws(() => must(v, 'the SU has state'), (e: unknown) => e instanceof AssertionError && e.message === 'the SU has state');
});
