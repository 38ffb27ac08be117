/**
 * boards/uboot-ab.script itself, run by the emulated U-Boot shell: the A/B rules as the board runs
 * them, budgets of 10–15 attempts written the way the agent writes them (hex, `a`…`f`), and the
 * old comparison without `0x` shown to skip such a slot, as U-Boot's `test` does.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyChanges, setPrimaryChanges } from '../../../../agent/ota/boot/boot-order.js';
import { EMULATED_BOARD_ENV, findBootScript } from '../../../../scripts/ota-emulator/device-emulator.js';
import { BootScriptError, runBootScript } from '../../../../scripts/ota-emulator/uboot-hush.js';

const SCRIPT = readFileSync(findBootScript(), 'utf8');
const vars = (o: Record<string, string>) => new Map([...EMULATED_BOARD_ENV, ...Object.entries(o)]);
const BOOT_VARS = ['BOOT_ORDER', 'BOOT_A_LEFT', 'BOOT_B_LEFT'];
const bootVars = (env: ReadonlyMap<string, string> | undefined) =>
  Object.fromEntries([...(env ?? [])].filter(([k]) => BOOT_VARS.includes(k)));
const slotOf = (bootargs: string | undefined) => /rauc\.slot=([AB])/.exec(bootargs ?? '')?.[1];

/** Power-ons until `count` boots were made; returns the slot of each (undefined for a reset). */
function powerOns(script: string, start: Map<string, string>, count: number) {
  let env = start;
  const booted: (string | undefined)[] = [];
  for (let i = 0; i < count; i++) {
    const run = runBootScript(script, env);
    booted.push(run.outcome === 'boot' ? slotOf(run.bootargs) : undefined);
    env = new Map(run.saved ?? env);
  }
  return { booted, env };
}

describe('boards/uboot-ab.script', () => {
  const table: [string, Record<string, string>, string | undefined, Record<string, string>][] = [
    [
      'defaults an empty environment and boots A',
      {},
      'A',
      { BOOT_ORDER: 'A B', BOOT_A_LEFT: '2', BOOT_B_LEFT: '3' },
    ],
    [
      'boots the first slot with attempts left and spends one',
      { BOOT_ORDER: 'B A', BOOT_A_LEFT: '3', BOOT_B_LEFT: '3' },
      'B',
      { BOOT_ORDER: 'B A', BOOT_A_LEFT: '3', BOOT_B_LEFT: '2' },
    ],
    [
      'falls back when the trial slot has no attempts left',
      { BOOT_ORDER: 'B A', BOOT_A_LEFT: '3', BOOT_B_LEFT: '0' },
      'A',
      { BOOT_ORDER: 'B A', BOOT_A_LEFT: '2', BOOT_B_LEFT: '0' },
    ],
    [
      'skips a slot marked bad (not in the order)',
      { BOOT_ORDER: 'A', BOOT_A_LEFT: '1', BOOT_B_LEFT: '3' },
      'A',
      { BOOT_ORDER: 'A', BOOT_A_LEFT: '0', BOOT_B_LEFT: '3' },
    ],
    [
      'resets every budget and the board when nothing is left',
      { BOOT_ORDER: 'A', BOOT_A_LEFT: '0', BOOT_B_LEFT: '0' },
      undefined,
      { BOOT_ORDER: 'A', BOOT_A_LEFT: '3', BOOT_B_LEFT: '3' },
    ],
  ];
  for (const [name, before, slot, saved] of table) {
    it(name, () => {
      const run = runBootScript(SCRIPT, vars(before));
      expect(run.outcome).toBe(slot ? 'boot' : 'reset');
      expect(slotOf(run.bootargs)).toBe(slot);
      expect(bootVars(run.saved)).toEqual(saved);
    });
  }

  it('puts the chosen slot and root device on the kernel command line, and saves before booting', () => {
    const run = runBootScript(
      SCRIPT,
      vars({
        BOOT_ORDER: 'A B',
        BOOT_A_LEFT: '3',
        bootpart_A: '/dev/mmcblk0p2',
        default_bootargs: 'console=ttyS0',
      }),
    );
    expect(run.bootargs).toBe('console=ttyS0 root=/dev/mmcblk0p2 rootwait rauc.slot=A');
    expect(run.saved?.get('BOOT_A_LEFT')).toBe('2');
    expect(run.saved?.has('BOOT_SLOT')).toBe(false); // the for variable is the shell's, not saved
  });

  for (let budget = 10; budget <= 15; budget++) {
    it(`gives a trial written with a budget of ${budget} (${budget.toString(16)}) exactly ${budget} boots`, () => {
      const factory = vars({ BOOT_ORDER: 'A', BOOT_A_LEFT: '3', BOOT_B_LEFT: '0' });
      const armed = applyChanges(factory, setPrimaryChanges(factory, 'B', budget)); // what the agent writes
      expect(armed.get('BOOT_B_LEFT')).toBe(budget.toString(16));
      const { booted, env } = powerOns(SCRIPT, armed, budget + 1);
      expect(booted).toEqual([...Array<string>(budget).fill('B'), 'A']);
      expect(bootVars(env)).toEqual({ BOOT_ORDER: 'B A', BOOT_A_LEFT: '2', BOOT_B_LEFT: '0' });
    });
  }

  it('counts down through hex as setexpr does: c, b, a, 9', () => {
    const seen: string[] = [];
    let env = vars({ BOOT_ORDER: 'B', BOOT_B_LEFT: 'd' });
    for (let i = 0; i < 4; i++) {
      env = new Map(runBootScript(SCRIPT, env).saved);
      seen.push(env.get('BOOT_B_LEFT')!);
    }
    expect(seen).toEqual(['c', 'b', 'a', '9']);
  });

  it('without the 0x prefix, as the script was, skips a slot with a budget of 10 (the bug on a board)', () => {
    const old = SCRIPT.replaceAll('test 0x${BOOT_', 'test ${BOOT_');
    expect(old).not.toBe(SCRIPT);
    const run = runBootScript(old, vars({ BOOT_ORDER: 'B A', BOOT_A_LEFT: '3', BOOT_B_LEFT: 'a' }));
    expect(slotOf(run.bootargs)).toBe('A');
  });
});

describe('the emulated U-Boot shell', () => {
  it('splits the for list at spaces even when quoted, and keeps quoted words whole elsewhere', () => {
    const run = runBootScript(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: U-Boot shell text, not a template
      'setenv L "x y"\nfor w in "${L}" z; do echo "[${w}]"; done\necho "${L}" ${L}\necho ""',
      new Map(),
    );
    expect(run.console).toEqual(['[x]', '[y]', '[z]', 'x y x y', '']);
    expect(run.outcome).toBe('end');
  });

  it('runs || and && on the status, and if/elif/else', () => {
    const run = runBootScript(
      'test 1 -eq 2 || echo or\ntest 1 -eq 1 && echo and\nif test a = b; then echo 1; elif test a = a; then echo 2; else echo 3; fi',
      new Map(),
    );
    expect(run.console).toEqual(['or', 'and', '2']);
  });

  it('refuses what it does not emulate, naming the line', () => {
    expect(() => runBootScript('echo ok\nmmc dev 0', new Map())).toThrow(BootScriptError);
    expect(() => runBootScript('echo ok\nmmc dev 0', new Map())).toThrow(/line 2: command "mmc"/);
    expect(() => runBootScript('if test 1 -eq 1; then echo x', new Map())).toThrow(
      /expected "fi"|without fi/,
    );
    expect(() => runBootScript('echo $(ls)', new Map())).toThrow(/unsupported \$ expansion/);
  });
});
