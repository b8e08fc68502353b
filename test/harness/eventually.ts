/**
 * eventually retries `probe` until it returns without throwing, or fails with the last error after
 * `timeoutMs`. Tests wait on conditions with it instead of sleeping.
 */
export async function eventually<T>(probe: () => T | Promise<T>, timeoutMs = 5000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await probe();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}
