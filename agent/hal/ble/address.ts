/**
 * Bluetooth device addresses as this bus spells them: lowercase `aa:bb:cc:dd:ee:ff` (the way BlueZ
 * and noble's HCI bindings print them), so a board profile may write them in any case.
 */
/** Lowercase `aa:bb:cc:dd:ee:ff`; TypeError naming `name` for anything that is not a MAC address. */
export function normalizeAddress(address: string, name = 'address'): string {
  if (typeof address !== 'string' || !/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(address)) {
    throw new TypeError(
      `${name} must be a MAC address like aa:bb:cc:dd:ee:ff, got ${JSON.stringify(address)}`,
    );
  }
  return address.toLowerCase();
}

/** The six bytes of an address, most significant first (as printed), e.g. for the BTHome nonce. */
export function addressBytes(address: string): Uint8Array {
  return Uint8Array.from(normalizeAddress(address).split(':'), (h) => Number.parseInt(h, 16));
}
