/**
 * Key tables: the list of a wire payload's keys as data (manifest.ts `MANIFEST_KEYS`, trust.ts
 * `TRUST_ROOT_KEYS`, fleet-command.ts `FLEET_COMMAND_KEYS`), so that encoders, decoders and the
 * documentation test (test/unit/docs) all read one list. `keyTable<T>()(keys)` returns `keys` unchanged
 * and makes the compiler hold the list to the payload's type: a key `T` lacks is an error, and so is a
 * field of `T` the list forgets (`missing` in the error names it).
 */
export function keyTable<T>() {
  return <const K extends readonly (keyof T & string)[]>(
    keys: K &
      ([Exclude<keyof T, K[number]>] extends [never] ? unknown : { missing: Exclude<keyof T, K[number]> }),
  ): K => keys;
}
