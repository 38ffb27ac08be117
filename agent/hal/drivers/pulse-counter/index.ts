/**
 * `pulse-counter`: counts pulses on one GPIO input (a hall-effect flow meter, a meter's reed contact,
 * an S0 output), polled (`pollMs`). Channels: `rate` in `unit` (averaged over `windowMs`) and `total`
 * in `totalUnit` since the agent started. Units are primary SenML units the agent produces (not `l`,
 * `l/s`: RFC 8428 §12.1 marks them NOT RECOMMENDED).
 *
 * | option          | default    | meaning                                                           |
 * |-----------------|------------|-------------------------------------------------------------------|
 * | `line`          | (required) | `{ chip: <gpiochip label>, offset: <line> }`                      |
 * | `pulsesPerUnit` | (required) | the meter's K-factor, pulses per `totalUnit` (YF-S201: 450000/m3) |
 * | `edge`          | `rising`   | `rising` or `falling`: the edge that counts                       |
 * | `windowMs`      | `1000`     | the rate's averaging window                                       |
 * | `unit`          | `m3/s`     | SenML unit of `rate` (`totalUnit` per second)                     |
 * | `totalUnit`     | `m3`       | SenML unit of `total`                                             |
 * | `debounceMs`    | `0`        | hall sensors give clean edges; reed contacts need a few ms        |
 * | `pull`          | (as is)    | `up`, `down` or `none`; absent leaves the firmware's setting      |
 *
 * Files: `driver.ts`, `sim-pulse-source.ts` (a simulated meter pulsing a simulated GPIO line at a mean
 * rate, loaded only with the simulated world).
 */
export { type PulseCounterOptions, pulseCounterDriver as driver } from './driver.js';
