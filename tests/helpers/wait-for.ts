/**
 * Resolves once `predicate` holds, re-checked every few milliseconds; rejects after `timeoutMs`
 * naming what it waited for. For a condition a test cannot be told about directly: wait for
 * it instead of sleeping for a time that is too long on a fast machine and too short on a busy one.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = "the condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
