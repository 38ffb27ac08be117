/**
 * The read-back worker's entry (loaded as the built `ota/slots/medium-verify-worker.js`; see
 * medium-verify.ts): opens the slot with O_DIRECT and verifies the ranges it is sent, one at a time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../../core/errors.js';
import { InstallError } from '../install-errors.js';
import { MediumReader } from './medium-reader.js';
import {
  type VerifyWorkerAnswer,
  type VerifyWorkerRequest,
  type VerifyWorkerSetup,
  verifyUnits,
} from './medium-verify.js';

const port = parentPort;
if (!port) throw new Error('medium-verify-worker.js must run in a worker thread');
const setup = workerData as VerifyWorkerSetup;
const reader = await MediumReader.open(setup.file);
if (!reader) throw new Error(`${setup.file} no longer opens with O_DIRECT`);

port.on('message', (request: VerifyWorkerRequest) => {
  verifyUnits(reader, setup, request.from, request.to, request.expected).then(
    () => port.postMessage({ ok: true } satisfies VerifyWorkerAnswer),
    (e: unknown) =>
      port.postMessage({
        ok: false,
        mismatch: e instanceof InstallError && e.reason === 'readback-mismatch',
        message: errorMessage(e),
      } satisfies VerifyWorkerAnswer),
  );
});
