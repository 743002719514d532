/**
 * Invariant assertions (TigerBeetle style): a failed assertion is a bug in amfd, never bad input.
 * Bad input is reported as a value (see result.ts); assertions guard what our own code promised.
 */
export class AssertionError extends Error {
  override name = 'AssertionError';
}

export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new AssertionError(message);
}

export function unreachable(value: never, what = 'value'): never {
  throw new AssertionError(`unreachable: unexpected ${what} ${JSON.stringify(value)}`);
}
