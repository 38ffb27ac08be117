/**
 * The reason `promise` rejects with, for asserting on an error's type and fields; fails the test if it
 * resolves instead (where `.catch((e) => e)` would hand the resolved value on as if it were the error).
 */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}
