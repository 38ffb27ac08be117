/**
 * `node --import test/support/no-onnxruntime.mjs …`: a module resolution hook that makes
 * `onnxruntime-node` unresolvable (ERR_MODULE_NOT_FOUND, as on a machine where the optional package
 * was not installed), in the main thread and in every worker thread (they inherit `--import`). The
 * agent-process tests use it to show the agent runs without the package.
 */
import { register } from 'node:module';

const HOOK = `
export async function resolve(specifier, context, next) {
  if (specifier === 'onnxruntime-node' || specifier.startsWith('onnxruntime-node/')) {
    const error = new Error("Cannot find package 'onnxruntime-node' imported from " + context.parentURL);
    error.code = 'ERR_MODULE_NOT_FOUND';
    throw error;
  }
  return next(specifier, context);
}
`;

register(`data:text/javascript,${encodeURIComponent(HOOK)}`);
