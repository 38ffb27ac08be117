/**
 * Argument checks shared by the Linux and the simulated backend, so both refuse the same misuse with
 * the same `TypeError` (the contract suite runs against both) and fill in the same defaults.
 */
import type {
  GpioBias,
  GpioDrive,
  GpioEdge,
  GpioInputOptions,
  GpioLevel,
  GpioLineRef,
  GpioOutputOptions,
} from './types.js';

const EDGES: readonly GpioEdge[] = ['none', 'rising', 'falling', 'both'];
const BIASES: readonly GpioBias[] = ['as-is', 'pull-up', 'pull-down', 'disabled'];
const DRIVES: readonly GpioDrive[] = ['push-pull', 'open-drain', 'open-source'];

export function checkLineRef(ref: GpioLineRef, name = 'line'): void {
  if (typeof ref !== 'object' || ref === null) throw new TypeError(`${name} must be { chip, offset }`);
  if (typeof ref.chip !== 'string' || ref.chip.length === 0) {
    throw new TypeError(`${name}.chip must be a gpiochip label, got ${JSON.stringify(ref.chip)}`);
  }
  if (!Number.isInteger(ref.offset) || ref.offset < 0) {
    throw new TypeError(`${name}.offset must be a non-negative integer, got ${String(ref.offset)}`);
  }
}

export function checkLevel(value: unknown, name = 'value'): asserts value is GpioLevel {
  if (value !== 0 && value !== 1) throw new TypeError(`${name} must be 0 or 1, got ${String(value)}`);
}

export function checkOutputOptions(options: GpioOutputOptions): Required<GpioOutputOptions> {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('options must be { initial, activeLow?, drive? }');
  checkLevel(options.initial, 'options.initial');
  const drive = options.drive ?? 'push-pull';
  if (!DRIVES.includes(drive))
    throw new TypeError(`options.drive must be one of ${DRIVES.join(', ')}, got ${String(drive)}`);
  return {
    initial: options.initial,
    activeLow: checkBoolean(options.activeLow, 'options.activeLow'),
    drive,
  };
}

export function checkInputOptions(options: GpioInputOptions = {}): Required<GpioInputOptions> {
  const edge = options.edge ?? 'none';
  if (!EDGES.includes(edge))
    throw new TypeError(`options.edge must be one of ${EDGES.join(', ')}, got ${String(edge)}`);
  const debounceMs = options.debounceMs ?? 0;
  if (!(Number.isFinite(debounceMs) && debounceMs >= 0)) {
    throw new TypeError(`options.debounceMs must be a finite number >= 0, got ${String(debounceMs)}`);
  }
  const bias = options.bias ?? 'as-is';
  if (!BIASES.includes(bias))
    throw new TypeError(`options.bias must be one of ${BIASES.join(', ')}, got ${String(bias)}`);
  return { edge, debounceMs, bias, activeLow: checkBoolean(options.activeLow, 'options.activeLow') };
}

function checkBoolean(value: unknown, name: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${String(value)}`);
  return value;
}
