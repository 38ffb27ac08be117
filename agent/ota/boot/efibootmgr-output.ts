/**
 * Parses what `efibootmgr` (rhboot, v16–v18) prints without options: `BootNext` (only while set),
 * `BootCurrent`, `Timeout`, `BootOrder`, then one line per boot entry, `Boot0001* label`, where `*`
 * marks an active entry and v18 adds a tab and the device path after the label (earlier versions
 * print it only with `-v`):
 *
 *     BootNext: 0002
 *     BootCurrent: 0001
 *     Timeout: 1 seconds
 *     BootOrder: 0001,0002,0000
 *     Boot0000* UEFI Shell	FvVol(7cb8bdc9-…)/FvFile(7c04a583-…)
 *     Boot0001* rootfs A	HD(1,GPT,…)/File(\EFI\BOOT\BOOTAA64.EFI)
 *
 * Boot numbers are four hex digits, kept upper-case. Lines it does not know (MirroredPercentage…) are
 * skipped; a known line with a malformed value is an error. Untrusted text in, a result out.
 */
export type EfiParseResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: string };

export interface EfiBootEntry {
  /** Four upper-case hex digits: `0001`. */
  readonly num: string;
  readonly label: string;
  /** LOAD_OPTION_ACTIVE: the firmware skips inactive entries. */
  readonly active: boolean;
}

export interface EfiBootState {
  readonly bootNext: string | undefined;
  readonly bootCurrent: string | undefined;
  readonly bootOrder: readonly string[];
  readonly entries: readonly EfiBootEntry[];
}

const NUM = /^[0-9A-Fa-f]{4}$/;

export function isBootNumber(s: string): boolean {
  return NUM.test(s);
}

export function parseEfibootmgr(text: string): EfiParseResult<EfiBootState> {
  let bootNext: string | undefined;
  let bootCurrent: string | undefined;
  let bootOrder: string[] = [];
  const entries: EfiBootEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const variable = /^(BootNext|BootCurrent|BootOrder): (.*)$/.exec(line);
    if (variable) {
      const value = variable[2]!.trim();
      if (variable[1] === 'BootOrder') {
        const nums = value.split(',');
        if (!nums.every(isBootNumber))
          return { ok: false, reason: `malformed BootOrder ${JSON.stringify(value)}` };
        bootOrder = nums.map((n) => n.toUpperCase());
      } else {
        if (!isBootNumber(value))
          return { ok: false, reason: `malformed ${variable[1]} ${JSON.stringify(value)}` };
        if (variable[1] === 'BootNext') bootNext = value.toUpperCase();
        else bootCurrent = value.toUpperCase();
      }
      continue;
    }
    const entry = /^Boot([0-9A-Fa-f]{4})([* ]) ?(.*)$/.exec(line);
    if (entry) {
      const label = entry[3]!.split('\t')[0]!.trim();
      entries.push({ num: entry[1]!.toUpperCase(), label, active: entry[2] === '*' });
    }
  }
  if (entries.length === 0) return { ok: false, reason: 'no Boot#### entries' };
  return { ok: true, value: { bootNext, bootCurrent, bootOrder, entries } };
}
