/**
 * `relay`: a relay, contactor or SSR on one GPIO output. Channel: `state`, a writable boolean
 * (`true` = on = coil energised). The line is claimed already at the safe state, and returns there on
 * stop and on fault.
 *
 * | option                | default    | meaning                                                            |
 * |-----------------------|------------|--------------------------------------------------------------------|
 * | `line`                | (required) | `{ chip: <gpiochip label>, offset: <line> }`                       |
 * | `activeLow`           | `false`    | on when the pin is low (most opto-isolated relay boards)           |
 * | `safeState`           | `off`      | the state on open, stop and fault                                  |
 * | `startState`          | `safe`     | after open: `safe`, `on` (e.g. a circulation fan) or `off`         |
 * | `minSwitchIntervalMs` | `0`        | minimum time between changes (the change to safe is never delayed) |
 *
 * Files: `driver.ts`. Its simulated peer is the simulated GPIO line itself (its device side records
 * every write); the simulated world wires a heater relay to the chamber plant.
 */
export { type RelayOptions, relayDriver as driver } from './driver.js';
