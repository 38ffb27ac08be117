/**
 * The I²C bus contract: the handful of SMBus and plain-I²C transactions sensor drivers need, over one
 * adapter (`/dev/i2c-<busNumber>` on Linux). Each call is one complete bus transaction, atomic on the
 * wire: a register read is "write the register number, repeated START, read" with no other master
 * able to interleave. Nothing is cached; a call is exactly the bytes it names.
 *
 * Errors (`I2cError` in errors.ts, branch on `code`, or use `isI2cNack`):
 *  - `EREMOTEIO` / `ENXIO` — no acknowledge: nothing at that address, or the device refused a byte
 *    (a Sensirion sensor still measuring NACKs its read header). The Pi's adapter says `EREMOTEIO`
 *    for both; other adapters say `ENXIO` for a missing address. `isI2cNack(e)` covers both.
 *  - `ETIMEDOUT` / `EAGAIN` / `EIO` — bus trouble (SDA held low, arbitration lost, a short read).
 *  - `ENOENT` / `EACCES` — from `open`: no such adapter (i2c not enabled in config.txt, wrong bus
 *    number) or no permission (user not in group `i2c`).
 *  - `ECLOSED` — a transaction called after `close()`.
 * The Linux backend passes other errno names through unchanged.
 *
 * Misuse rejects with `TypeError` naming the parameter, before anything reaches the bus (so the
 * simulator and the real bus refuse exactly the same calls):
 *  - `busNumber` not a non-negative integer;
 *  - `address` not an integer in 0x03–0x77 (7-bit, excluding the reserved 0x00–0x02 and 0x78–0x7f);
 *  - `cmd` (register / command byte) or `value` not an integer in 0–255;
 *  - `length` of a block transaction not an integer in 1–32 (the SMBus block limit), of a plain
 *    read not in 1–8192 (the i2c-dev limit);
 *  - `bytes` not a `Uint8Array` (a `Buffer` is one), or of a length outside those limits.
 */
export interface I2cBackend {
  readonly kind: 'linux' | 'sim';
  /**
   * A handle on adapter `busNumber`. Several handles on one bus may be open at once (one per device
   * driver); each is closed on its own. Rejects `ENOENT` when the adapter does not exist, `EACCES`
   * when it may not be opened.
   */
  open(busNumber: number): Promise<I2cBus>;
  /** Closes every handle this backend opened that is still open (shutdown). Never rejects. */
  close(): Promise<void>;
}

export interface I2cBus {
  readonly busNumber: number;
  /** False once `close()` has been called. */
  readonly isOpen: boolean;
  /** SMBus "read byte data": write `cmd`, repeated START, read one byte. */
  readByte(address: number, cmd: number): Promise<number>;
  /**
   * SMBus "I²C block read": write `cmd`, repeated START, read `length` bytes (a register burst: the
   * device auto-increments its register pointer). Resolves with exactly `length` bytes; a short
   * read rejects `EIO`.
   */
  readBlock(address: number, cmd: number, length: number): Promise<Uint8Array>;
  /** SMBus "write byte data": `cmd` then `value` in one write. */
  writeByte(address: number, cmd: number, value: number): Promise<void>;
  /** SMBus "I²C block write": `cmd` then `bytes` (1–32) in one write. */
  writeBlock(address: number, cmd: number, bytes: Uint8Array): Promise<void>;
  /** Plain I²C write of `bytes` (1–8192) — command-style chips (SHT3x: a 16-bit command). */
  i2cWrite(address: number, bytes: Uint8Array): Promise<void>;
  /** Plain I²C read of `length` bytes (1–8192). Resolves with exactly `length` bytes. */
  i2cRead(address: number, length: number): Promise<Uint8Array>;
  /**
   * Releases the bus. Transactions already started settle first — each resolves or rejects on its
   * own merits, none is cut off mid-transfer — then the adapter is released; anything called after
   * `close()` rejects `ECLOSED`. Idempotent; never rejects.
   */
  close(): Promise<void>;
}
