/** Polls `test` every 20 ms until it holds; after `timeoutMs`, fails naming `what` (and `state()`). */
export async function until(
  test: () => boolean,
  what: string,
  timeoutMs = 5000,
  state?: () => unknown,
): Promise<void> {
  for (let t = 0; t < timeoutMs; t += 20) {
    if (test()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  const detail = state ? `: ${JSON.stringify(state())}` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
}
