/**
 * `pulse-counter`: counts pulses on one GPIO input (a hall-effect flow meter, a meter's reed contact,
 * an S0 output), polled (`pollMs`). Channels: `rate` in `unit` (averaged over `windowMs`) and `total`
 * in `totalUnit` since the agent started.
 *
 * | option          | default    | meaning                                                           |
 * |-----------------|------------|-------------------------------------------------------------------|
 * | `line`          | (required) | `{ chip: <gpiochip label>, offset: <line> }`                      |
 * | `pulsesPerUnit` | (required) | the meter's K-factor, pulses per `totalUnit` (YF-S201: 450 per l) |
 * | `edge`          | `rising`   | `rising` or `falling`: the edge that counts                       |
 * | `windowMs`      | `1000`     | the rate's averaging window                                       |
 * | `unit`          | `l/s`      | SenML unit of `rate` (`totalUnit` per second)                     |
 * | `totalUnit`     | `l`        | SenML unit of `total`                                             |
 * | `debounceMs`    | `0`        | hall sensors give clean edges; reed contacts need a few ms        |
 * | `pull`          | (as is)    | `up`, `down` or `none`; absent leaves the firmware's setting      |
 *
 * Files: `driver.ts`, `sim-pulse-source.ts` (a simulated meter pulsing a simulated GPIO line at a mean
 * rate, loaded only with the simulated world).
 */
export { type PulseCounterOptions, pulseCounterDriver as driver } from './driver.js';
