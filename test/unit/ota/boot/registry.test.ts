/**
 * The boot backend registry: the names a configuration may give are exactly the registered factories,
 * and the jetson and efi options take their defaults, resolve a tool named by path against the
 * configuration file, and refuse entry names efibootmgr could not list.
 */
import { describe, expect, it } from 'vitest';
import type { BootSlotInfo } from '../../../../agent/ota/boot/boot-slot-info.js';
import {
  BOOT_BACKEND_KINDS,
  BOOT_BACKENDS,
  bootOptionsSchema,
  createBootBackend,
} from '../../../../agent/ota/boot/registry.js';
import type { RunCommand } from '../../../../agent/ota/run-command.js';

const bootInfo: BootSlotInfo = { bootedSlot: async () => undefined, bootId: async () => '' };

describe('the boot backend registry', () => {
  it('lists exactly the registered factories as the names a configuration may give', () => {
    expect([...BOOT_BACKEND_KINDS].sort()).toEqual(BOOT_BACKENDS.map((f) => f.kind).sort());
  });

  it('defaults the jetson and efi options', () => {
    expect(bootOptionsSchema.parse({ backend: 'jetson' })).toEqual({
      backend: 'jetson',
      nvbootctrl: 'nvbootctrl',
      retryCountMax: 3,
      confirm: 'verify',
    });
    expect(bootOptionsSchema.parse({ backend: 'efi' })).toEqual({
      backend: 'efi',
      efibootmgr: 'efibootmgr',
      entries: { A: 'rootfs A', B: 'rootfs B' },
    });
    expect(bootOptionsSchema.safeParse({ backend: 'jetson', retryCountMax: 4 }).success).toBe(false);
    expect(bootOptionsSchema.safeParse({ backend: 'efi', entries: { A: 'a\tb', B: 'b' } }).success).toBe(
      false,
    );
  });

  it('runs a tool named by path from the configuration directory, and one named bare from PATH', async () => {
    const seen: string[] = [];
    const run: RunCommand = async (argv) => {
      seen.push(argv[0]!);
      return { code: 0, stdout: '1\n', stderr: '' };
    };
    const deps = { bootInfo, resolve: (p: string) => `/etc/edge-agent/${p}`, stateDir: '/tmp/x', run };
    await createBootBackend(
      bootOptionsSchema.parse({ backend: 'jetson', nvbootctrl: 'bin/nvbootctrl' }),
      deps,
    ).getCurrent();
    await createBootBackend(bootOptionsSchema.parse({ backend: 'jetson' }), deps).getCurrent();
    expect(seen).toEqual(['/etc/edge-agent/bin/nvbootctrl', 'nvbootctrl']);
  });
});
