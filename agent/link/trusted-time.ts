/**
 * `fleet.reset-time`: the signed way back for a device whose trusted time (replay-cache.ts) was
 * pushed into the future — by a command signed with a wrong `iat` while its wall clock was not
 * trusted — so that every later command is `expired`. A device with a trusted wall clock heals by
 * itself (the channel clamps to the wall clock plus the skew); one without NTP or an RTC has no clock
 * to judge anything by, so the fleet tells it the time.
 *
 * The command is an ordinary signed fleet command (signatures, threshold, device binding, lifetime,
 * a fresh id) whose `args` are `{trustedS}`: the trusted time, POSIX seconds, the device holds now.
 * It is a compare-and-set — applied only if `trustedS` is exactly what the device holds — so a
 * captured reset replayed later finds another value and is refused; no clock is needed for that. A
 * mismatch is refused as `replayed` with the value the device holds in the message, which is how
 * the fleet learns it (send `trustedS: 0` first). Applied, trusted time becomes the command's `iat`.
 * While the wall clock is trusted the command's time window is checked as for any command.
 */

/** The command the channel handles itself, before the registry. */
export const RESET_TIME_COMMAND = 'fleet.reset-time';

/** Commands the channel handles itself rather than the registry (docs/wire-formats.md checks this). */
export const CHANNEL_COMMANDS = [RESET_TIME_COMMAND] as const;

/** Every key of `fleet.reset-time`'s `args`. */
export const RESET_TIME_ARGS = ['trustedS'] as const;

export function parseResetTimeArgs(
  args: Readonly<Record<string, unknown>>,
): { readonly ok: true; readonly trustedS: number } | { readonly ok: false; readonly reason: string } {
  const extra = Object.keys(args).filter((k) => !(RESET_TIME_ARGS as readonly string[]).includes(k));
  if (extra.length > 0)
    return { ok: false, reason: `${RESET_TIME_COMMAND}: unknown argument(s) ${extra.join(', ')}` };
  const trustedS = args.trustedS;
  if (typeof trustedS !== 'number' || !Number.isSafeInteger(trustedS) || trustedS < 0) {
    return {
      ok: false,
      reason: `${RESET_TIME_COMMAND}: trustedS must be the trusted time the device holds, POSIX seconds`,
    };
  }
  return { ok: true, trustedS };
}
