/**
 * Test assertions on `node:assert` (Deno std is unreachable here), named like std's.
 * @module
 */
import nodeAssert from "node:assert/strict";

/** Deep strict equality. */
export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, msg);
}

/** Truthiness. */
export function assert(cond: unknown, msg?: string): asserts cond {
  nodeAssert.ok(cond, msg);
}

/** `actual` contains `expected`. */
export function assertStringIncludes(actual: string, expected: string, msg?: string): void {
  nodeAssert.ok(
    actual.includes(expected),
    msg ?? `expected ${JSON.stringify(actual)} to include ${JSON.stringify(expected)}`,
  );
}

/** `fn` throws an instance of `cls` whose message matches `re`; returns the error. */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  cls: new (...a: never[]) => E,
  re?: RegExp,
): E {
  try {
    fn();
  } catch (e) {
    nodeAssert.ok(
      e instanceof cls,
      `expected ${cls.name}, got ${(e as Error)?.name}: ${(e as Error)?.message}`,
    );
    if (re) nodeAssert.match((e as Error).message, re);
    return e as E;
  }
  throw new nodeAssert.AssertionError({ message: `expected ${cls.name} to be thrown` });
}

/** `0x`-prefixed lowercase hex. */
export function hexOf(b: Uint8Array): string {
  return "0x" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Equal bytes, naming the first difference (no diff of megabytes of output). */
export function assertSameBytes(got: Uint8Array, want: Uint8Array, what: string): void {
  let i = 0;
  while (i < got.length && i < want.length && got[i] === want[i]) i++;
  assert(
    i === got.length && i === want.length,
    `${what}: ${got.length} vs ${want.length} bytes, first difference at byte ${i}`,
  );
}
