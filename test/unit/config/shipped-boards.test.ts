import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadBoard } from '../../../agent/config/load-board.js';
import { REPO_ROOT } from '../../support/agent-process.js';

const BOARDS = path.join(REPO_ROOT, 'boards');
const files = readdirSync(BOARDS).filter((f) => f.endsWith('.yaml'));

describe('shipped board profiles', () => {
  it('include the simulator, Pi 4, Pi 5 and Jetson Orin Nano', () => {
    expect(files.sort()).toEqual(['jetson-orin-nano.yaml', 'rpi4.yaml', 'rpi5.yaml', 'sim.yaml']);
  });

  it.each(files)(
    '%s validates and describes only the board (no devices, no simulated world)',
    async (file) => {
      const board = await loadBoard(path.join(BOARDS, file));
      expect(board.profile.id).toBe(file.replace(/\.yaml$/, ''));
      expect(Object.keys(board.profile)).not.toContain('devices');
      expect(Object.keys(board.profile)).not.toContain('sim');
    },
  );

  it("make jetson the Jetson Orin Nano's boot backend; the others leave the choice to the site", async () => {
    const backends: Record<string, string | undefined> = {};
    for (const f of files) backends[f] = (await loadBoard(path.join(BOARDS, f))).profile.boot?.backend;
    expect(backends).toEqual({
      'jetson-orin-nano.yaml': 'jetson',
      'rpi4.yaml': undefined,
      'rpi5.yaml': undefined,
      'sim.yaml': undefined,
    });
  });

  it('match the device-tree model strings of the real boards', async () => {
    const models: Record<string, string> = {
      'rpi4.yaml': 'Raspberry Pi 4 Model B Rev 1.5',
      'rpi5.yaml': 'Raspberry Pi 5 Model B Rev 1.0',
      'jetson-orin-nano.yaml': 'NVIDIA Jetson Orin Nano Developer Kit',
    };
    for (const [file, model] of Object.entries(models)) {
      const board = await loadBoard(path.join(BOARDS, file));
      expect(board.profile.matches.some((m) => model.includes(m))).toBe(true);
    }
  });

  it('drive GPIO through the character device on the Pi 5 and the Jetson, through sysfs on the Pi 4', async () => {
    const backends: Record<string, string | undefined> = {};
    for (const file of ['rpi4.yaml', 'rpi5.yaml', 'jetson-orin-nano.yaml']) {
      backends[file] = (await loadBoard(path.join(BOARDS, file))).profile.gpio?.backend;
    }
    expect(backends).toEqual({
      'rpi4.yaml': 'sysfs',
      'rpi5.yaml': 'chardev',
      'jetson-orin-nano.yaml': 'chardev',
    });
  });
});
