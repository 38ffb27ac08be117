/**
 * `digital-input`: a contact on one GPIO input (door switch, float switch, alarm output), a push
 * device. Channel: `state`, a boolean (`true` = logical 1), published at open and on every debounced
 * change.
 *
 * | option       | default    | meaning                                                      |
 * |--------------|------------|--------------------------------------------------------------|
 * | `line`       | (required) | `{ chip: <gpiochip label>, offset: <line> }`                 |
 * | `activeLow`  | `false`    | `true` when the contact pulls the line low when closed       |
 * | `debounceMs` | `20`       | a change must hold this long to count                        |
 * | `pull`       | (as is)    | `up`, `down` or `none`; absent leaves the firmware's setting |
 *
 * Files: `driver.ts`, `sim-contact.ts` (a simulated contact opening and closing on a schedule on a
 * simulated GPIO line, loaded only with the simulated world).
 */
export { type DigitalInputOptions, digitalInputDriver as driver } from './driver.js';
