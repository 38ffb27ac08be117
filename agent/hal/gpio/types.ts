/**
 * The GPIO bus contract. A line is named the way the kernel names it — the label of its gpiochip and
 * the line's offset on that chip — never by a global number, because global numbers move between
 * kernels (resolve-line.ts). Two handle kinds: an output (drive a relay) and an input (read a door
 * contact, count flow-meter pulses) that can report edges. Values are *logical*: with `activeLow` the
 * backend inverts both directions, and edges (`rising`/`falling`) refer to the logical value, as the
 * kernel's `active_low` attribute does.
 *
 * Errors (classes in errors.ts, branch on `code`):
 *  - `EUNKNOWN_CHIP` — no gpiochip has that label; the message names the label and the labels that
 *    exist (a Pi 4 profile on a Pi 5 names `pinctrl-bcm2711` where only `pinctrl-rp1` exists);
 *  - `EAMBIGUOUS_CHIP` — two chips share the label (two identical I/O expanders);
 *  - `EOFFSET_RANGE` — the offset is not below the chip's `ngpio`; the message names chip and ngpio;
 *  - `EBUSY` — the line is already open through this backend;
 *  - `ECLOSED` — an operation on a closed handle;
 *  - `ENOGPIO` — the host has no GPIO sysfs class (kernel without `CONFIG_GPIO_SYSFS`) or no access;
 *    for the character-device backend, the libgpiod v2 tools are missing (or are v1) — the message
 *    names the package — or /dev/gpiochipN may not be opened;
 *  - `EIO` — character-device backend only: the tool process that holds the line (`gpioset`,
 *    `gpiomon`) failed or exited unexpectedly; the message carries its stderr.
 * Misuse — an offset that is not a non-negative integer, a value other than 0 or 1, an unknown edge,
 * `write` on an input (through a cast or from JavaScript), `watch` on an output or on an input opened
 * with edge `none` — is a `TypeError` naming the parameter: thrown by `watch`, a rejection from the
 * methods that return promises.
 */
/** A line by gpiochip label and offset, e.g. `{ chip: 'pinctrl-bcm2711', offset: 17 }` for BCM GPIO17. */
export interface GpioLineRef {
  /** The gpiochip's kernel label: `pinctrl-bcm2711` (Pi 4), `pinctrl-rp1` (Pi 5), `tegra234-gpio`. */
  readonly chip: string;
  /** Line offset on that chip, 0 ≤ offset < ngpio. */
  readonly offset: number;
}

export type GpioLevel = 0 | 1;
export type GpioEdge = 'none' | 'rising' | 'falling' | 'both';
/**
 * Bias of an input. Sysfs cannot set it: the Linux backend logs a warning and leaves the firmware's
 * setting (Pi: `gpio=17=ip,pu` in config.txt); the simulator applies it to an undriven line.
 */
export type GpioBias = 'as-is' | 'pull-up' | 'pull-down' | 'disabled';

/**
 * A gpiochip as the kernel describes it in `/sys/class/gpio/gpiochipN/{label,base,ngpio}` (sysfs) or
 * as `gpiodetect` prints it (character device).
 */
export interface GpioChipInfo {
  readonly label: string;
  /** Global number of offset 0 (only meaningful to sysfs; -1 from the character-device backend). */
  readonly base: number;
  readonly ngpio: number;
  /** The character device's name, `gpiochip4` (character-device backend only). */
  readonly name?: string;
}

/**
 * Output drive. Only the character-device backend can set it; sysfs (Linux backend) logs a warning
 * and drives push-pull; the simulator accepts it (its wires model levels, not drivers).
 */
export type GpioDrive = 'push-pull' | 'open-drain' | 'open-source';

export interface GpioOutputOptions {
  /** Logical value driven from the moment the line becomes an output (no glitch to the other level). */
  readonly initial: GpioLevel;
  readonly activeLow?: boolean;
  /** Default `push-pull`. */
  readonly drive?: GpioDrive;
}

export interface GpioInputOptions {
  /** Which logical transitions `watch` reports. Default `none` (read only). */
  readonly edge?: GpioEdge;
  /**
   * Trailing debounce, ms (default 0). A change is reported once the line has stayed unchanged for
   * `debounceMs` after its last transition, with the level it settled at; a bounce or glitch shorter
   * than that is not reported, and a settled level equal to the last reported one is not reported again.
   */
  readonly debounceMs?: number;
  readonly activeLow?: boolean;
  readonly bias?: GpioBias;
}

export interface GpioEdgeEvent {
  /** Logical level after the edge: 1 for `rising`, 0 for `falling`. */
  readonly value: GpioLevel;
  /**
   * Monotonic time (the backend's `Clock`) of the transition — for a debounced input, of the last raw
   * transition before the line settled, so debouncing delays delivery but does not skew timing.
   * Sysfs gives no kernel timestamp: the Linux backend stamps when its interrupt handler runs. The
   * character-device backend converts the kernel's CLOCK_MONOTONIC event timestamp; the kernel
   * stamps a debounced edge when the line settles, so it reports that time less `debounceMs`.
   */
  readonly monoMs: number;
}

export type GpioEdgeListener = (event: GpioEdgeEvent) => void;

interface GpioLineBase {
  readonly ref: GpioLineRef;
  readonly activeLow: boolean;
  /** False once `close()` has been called. */
  readonly isOpen: boolean;
  /** The logical level now. Rejects `ECLOSED` if the handle is closed before the read completes. */
  read(): Promise<GpioLevel>;
  /**
   * Releases the line (sysfs: unexport). Watchers are removed first and none is called after `close`
   * returns — a debounce still pending is cancelled. Reads and writes still pending reject `ECLOSED`
   * (a write may or may not have reached the pin). The electrical state is left as it is: an output
   * keeps driving its last level (on a Pi; some pin controllers return a freed pin to its default
   * function), so drive the safe level *before* closing. Idempotent; never rejects.
   */
  close(): Promise<void>;
}

export interface GpioOutput extends GpioLineBase {
  readonly direction: 'out';
  /** Drives a logical level. Rejects `TypeError` for a value other than 0/1, `ECLOSED` when closed. */
  write(value: GpioLevel): Promise<void>;
}

export interface GpioInput extends GpioLineBase {
  readonly direction: 'in';
  readonly edge: GpioEdge;
  readonly debounceMs: number;
  /**
   * Calls `listener` for each reported edge (see `GpioInputOptions.debounceMs`), in order. Without
   * debounce the Linux backend reports each interrupt with the level read in its handler, so a pulse
   * shorter than the interrupt latency can be lost or two events can carry the same value; the
   * simulator reports exactly the transitions it was driven with. `onError` receives failures of the
   * underlying event source (epoll); a listener that throws is reported by rethrowing asynchronously
   * and does not stop the others. Returns the function that removes this listener. Throws TypeError
   * if the input was opened with edge `none`, `ECLOSED` if closed.
   */
  watch(listener: GpioEdgeListener, onError?: (error: Error) => void): () => void;
}

export type GpioLine = GpioInput | GpioOutput;

export interface GpioBackend {
  /** `linux`: sysfs (linux.ts); `chardev`: the GPIO character device (chardev.ts); `sim`. */
  readonly kind: 'linux' | 'chardev' | 'sim';
  /**
   * The chips the host has, in kernel order. Rejects `ENOGPIO` when there is no GPIO sysfs class
   * (Linux backend) or no libgpiod v2 tools (character-device backend).
   */
  listChips(): Promise<GpioChipInfo[]>;
  /** Claims the line as an output, driving `options.initial`. */
  openOutput(ref: GpioLineRef, options: GpioOutputOptions): Promise<GpioOutput>;
  /** Claims the line as an input. */
  openInput(ref: GpioLineRef, options?: GpioInputOptions): Promise<GpioInput>;
  /** Closes every handle still open (shutdown). Outputs keep their levels (see `close`). */
  close(): Promise<void>;
}
