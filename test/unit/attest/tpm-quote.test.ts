/**
 * TPM quote verification without a TPM, on a real quote captured from swtpm with tpm2-tools (see
 * test/fixtures/tpm/README.txt): its TPMS_ATTEST parses, its signature verifies with the AK, and the
 * PCR equals the extend chain over the two measurements — and each of those checks fails on its own
 * when its input is changed.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDevicePublicKey } from '../../../agent/attest/device-key.js';
import { ecdsaDerToRaw } from '../../../agent/attest/es256.js';
import {
  extendChain,
  parseQuoteAttest,
  type TpmQuote,
  verifyQuote,
} from '../../../agent/attest/tpm-quote.js';
import { REPO_ROOT } from '../../support/agent-process.js';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/tpm');
const nonce = Uint8Array.from(Buffer.from('0011223344556677', 'hex'));
const sha = (s: string) => new Uint8Array(createHash('sha256').update(s).digest());
const digests = [sha('agent'), sha('config')];

async function fixture(): Promise<TpmQuote> {
  const ak = parseDevicePublicKey(await readFile(path.join(FIXTURES, 'ak.pub.pem'), 'utf8'));
  if (!ak.ok) throw new Error(ak.reason);
  return {
    ak: ak.publicKey,
    attest: new Uint8Array(await readFile(path.join(FIXTURES, 'quote.msg'))),
    signature: ecdsaDerToRaw(new Uint8Array(await readFile(path.join(FIXTURES, 'quote.sig')))),
    pcr: 23,
    value: new Uint8Array(await readFile(path.join(FIXTURES, 'pcr.bin'))),
  };
}

describe('TPM quote', () => {
  it('parses the TPMS_ATTEST tpm2_quote signed: our nonce, sha256:23 selected', async () => {
    const q = await fixture();
    const parsed = parseQuoteAttest(q.attest);
    expect(parsed).toMatchObject({
      ok: true,
      info: { extraData: nonce, selections: [{ hashAlg: 0x000b, pcrs: [23] }] },
    });
  });

  it('verifies: AK signature, nonce, PCR digest, and the PCR as the extend chain of the measurements', async () => {
    const q = await fixture();
    expect(extendChain(digests)).toEqual(q.value);
    expect(verifyQuote(q, nonce, digests)).toMatchObject({ ok: true });
  });

  it.each<[string, (q: TpmQuote) => [TpmQuote, Uint8Array, Uint8Array[]], RegExp]>([
    ['another nonce', (q) => [q, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), digests], /nonce/],
    ['other measurements', (q) => [q, nonce, [sha('agent'), sha('config v2')]], /extend chain/],
    ['measurements in another order', (q) => [q, nonce, [...digests].reverse()], /extend chain/],
    [
      'a PCR value that is not the one quoted',
      (q) => [{ ...q, value: extendChain([sha('x')]) }, nonce, digests],
      /quoted PCR digest/,
    ],
    [
      'another AK',
      (q) => [
        { ...q, ak: Uint8Array.of(4, ...q.ak.subarray(1, 33), ...q.ak.subarray(33).reverse()) },
        nonce,
        digests,
      ],
      /signature/,
    ],
    [
      'a changed attest structure',
      (q) => [{ ...q, attest: Uint8Array.from(q.attest, (b, i) => (i === 50 ? b ^ 1 : b)) }, nonce, digests],
      /signature/,
    ],
  ])('fails for %s', async (_what, change, reason) => {
    const [q, n, d] = change(await fixture());
    expect(verifyQuote(q, n, d)).toMatchObject({ ok: false, reason: expect.stringMatching(reason) });
  });

  it('never throws on arbitrary attest bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(parseQuoteAttest(bytes).ok).toBe(false);
      }),
    );
  });
});
