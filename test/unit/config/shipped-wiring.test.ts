import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSenmlUnit } from '../../../agent/core/senml-units.js';
import { REPO_ROOT } from '../../support/agent-process.js';
import { loadRepoConfig } from '../../support/load-repo-config.js';
import { onlyBuses } from '../../support/only-buses.js';
import { tempDirs } from '../../support/temp-dir.js';

const tempDir = tempDirs();
const BOARDS = path.join(REPO_ROOT, 'boards');
const WIRING = path.join(REPO_ROOT, 'wiring');
const boards = readdirSync(BOARDS)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.replace(/\.yaml$/, ''));
const files = readdirSync(WIRING).filter((f) => f.endsWith('.yaml'));

/** A wiring file is named `<kit>-<board id>.yaml`: the board it is wired to. */
function boardOf(file: string): string | undefined {
  return boards.find((b) => file.endsWith(`-${b}.yaml`));
}

async function loadWith(board: string, wiring: string) {
  const file = path.join(await tempDir(), 'agent.yaml');
  await writeFile(
    file,
    `board: ${path.join(BOARDS, `${board}.yaml`)}\nwiring: ${path.join(WIRING, wiring)}\n`,
  );
  return loadRepoConfig(file);
}

const CHAMBER_KIT = ['chamber', 'heater', 'fan', 'air', 'outdoor', 'door', 'coolant'];

describe('shipped wiring files', () => {
  it('wire the chamber kit to every shipped board', () => {
    expect(files.sort()).toEqual(boards.map((b) => `chamber-kit-${b}.yaml`).sort());
  });

  it.each(files)('%s is named after its board and validates against it', async (file) => {
    const board = boardOf(file);
    expect(board, `${file} names no shipped board (<kit>-<board>.yaml)`).toBeDefined();
    const loaded = await loadWith(board as string, file);
    expect(loaded.devices.length).toBeGreaterThan(0);
    expect(loaded.wiringFiles).toEqual([path.join(WIRING, file)]);
    expect(loaded.sim !== undefined).toBe(board === 'sim');
  });

  it('give config/dev.yaml (npm start) the whole chamber kit and its simulated plant', async () => {
    const loaded = await loadRepoConfig(path.join(REPO_ROOT, 'config/dev.yaml'));
    expect(loaded.board.profile.id).toBe('sim');
    expect(loaded.devices.map((d) => d.entry.id)).toEqual(CHAMBER_KIT);
    expect(loaded.devices.every((d) => d.file === path.join(WIRING, 'chamber-kit-sim.yaml'))).toBe(true);
    expect(loaded.sim).toMatchObject({ seed: 42, chamber: { heater: 'heater', sensor: 'chamber' } });
  });

  it.each(files)('%s: every channel is in a primary SenML unit a producer may use, or none', async (file) => {
    const loaded = await loadWith(boardOf(file) as string, file);
    for (const d of loaded.devices) {
      // Constructing a device only declares its channels; it touches no bus before open().
      for (const { channel, unit } of d.factory.create(d.options, onlyBuses({})).channels) {
        if (unit !== undefined) expect(isSenmlUnit(unit), `${d.entry.id}.${channel}: ${unit}`).toBe(true);
      }
    }
  });
});
