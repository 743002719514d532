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

/**
 * `x`, known by our own code to be neither undefined nor null (a map entry the model guarantees,
 * a field set before use): the checked form of TypeScript's `x!`, so a broken promise fails here
 * with `message` instead of as a TypeError further on.
 */
export function must<T>(x: T, message: string): NonNullable<T> {
  if (x === undefined || x === null) throw new AssertionError(message);
  return x as NonNullable<T>;
}
