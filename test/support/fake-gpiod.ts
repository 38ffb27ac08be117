/**
 * A host for the character-device GPIO backend without a kernel: fake libgpiod v2 tools
 * (test/support/fake-gpiod/, README.md there says what they replay and from where) in `<dir>/bin`,
 * and the simulated kernel they share in `<dir>/state`. The backend under test is the real one,
 * pointed at `toolDir`; it starts real child processes, reads their real output and signals them.
 * `wire(out, in)` makes the input's level a symlink to the output's, the jumper of the contract suite.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TOOLS_DIR = fileURLToPath(new URL('./fake-gpiod/', import.meta.url));
const TOOLS = ['gpiodetect', 'gpioget', 'gpioset', 'gpiomon'] as const;
/** Found by the tools at `<bin>/../state/`, so that they need no `readlink` at start. */
const SHARED = ['common.sh', 'gpiomon.mjs'] as const;

export interface FakeGpiodHost {
  /** What the backend is given as `toolDir`. */
  readonly toolDir: string;
  readonly stateDir: string;
  /** Adds a gpiochip (`gpiochip0`, `gpiochip1` … in call order) and returns its name. */
  addChip(label: string, ngpio: number): Promise<string>;
  /** Connects output line `from` to input line `to` on the chip named `chip`. */
  wire(chip: string, from: number, to: number): Promise<void>;
  /** The version every tool prints (`v2.2.1`; `v1.6.3` plays a Debian 12 host). */
  setVersion(version: string): Promise<void>;
  /** Plays a gpioset built with its interactive mode (Debian's is not: the default). */
  setInteractive(on: boolean): Promise<void>;
  /** The electrical level of a line (0 for a line never driven). */
  level(chip: string, offset: number): number;
  /** Each tool run so far: `gpioset --banner --consumer edge-agent …`. */
  calls(): Promise<string[]>;
  /** The pid of the live process holding a line, if one does. */
  holder(chip: string, offset: number): number | undefined;
}

export async function fakeGpiodHost(dir: string): Promise<FakeGpiodHost> {
  const toolDir = path.join(dir, 'bin');
  const stateDir = path.join(dir, 'state');
  await mkdir(toolDir, { recursive: true });
  await mkdir(path.join(stateDir, 'chips'), { recursive: true });
  await mkdir(path.join(stateDir, 'lines'), { recursive: true });
  await Promise.all([
    ...TOOLS.map((t) => symlink(path.join(TOOLS_DIR, t), path.join(toolDir, t))),
    ...SHARED.map((f) => symlink(path.join(TOOLS_DIR, f), path.join(stateDir, f))),
  ]);
  await writeFile(path.join(stateDir, 'version'), 'v2.2.1\n');
  await writeFile(path.join(stateDir, 'calls.log'), '');
  execFileSync('mkfifo', [path.join(stateDir, 'hold.fifo')]);
  const lineDir = (chip: string, offset: number) => path.join(stateDir, 'lines', chip, String(offset));
  return {
    toolDir,
    stateDir,
    async addChip(label, ngpio) {
      const name = `gpiochip${(await readdir(path.join(stateDir, 'chips'))).length}`;
      await mkdir(path.join(stateDir, 'chips', name));
      await writeFile(path.join(stateDir, 'chips', name, 'label'), `${label}\n`);
      await writeFile(path.join(stateDir, 'chips', name, 'ngpio'), `${ngpio}\n`);
      return name;
    },
    async wire(chip, from, to) {
      await mkdir(lineDir(chip, from), { recursive: true });
      await mkdir(lineDir(chip, to), { recursive: true });
      await writeFile(path.join(lineDir(chip, from), 'level'), '0');
      await symlink(path.join(lineDir(chip, from), 'level'), path.join(lineDir(chip, to), 'level'));
    },
    async setVersion(version) {
      await writeFile(path.join(stateDir, 'version'), `${version}\n`);
    },
    async setInteractive(on) {
      await (on
        ? writeFile(path.join(stateDir, 'interactive'), '')
        : rm(path.join(stateDir, 'interactive'), { force: true }));
    },
    level(chip, offset) {
      try {
        return Number(readFileSync(path.join(lineDir(chip, offset), 'level'), 'utf8').trim());
      } catch {
        return 0;
      }
    },
    async calls() {
      return (await readFile(path.join(stateDir, 'calls.log'), 'utf8')).split('\n').filter(Boolean);
    },
    holder(chip, offset) {
      let pid: number;
      try {
        pid = Number(readFileSync(path.join(lineDir(chip, offset), 'owner'), 'utf8'));
        process.kill(pid, 0);
      } catch {
        return undefined;
      }
      return pid;
    },
  };
}

/** The live child processes of this process (Linux: /proc/<pid>/task/<tid>/children). */
export function childPids(pid = process.pid): number[] {
  const tasks = path.join('/proc', String(pid), 'task');
  return readdirSync(tasks).flatMap((tid) => {
    try {
      return readFileSync(path.join(tasks, tid, 'children'), 'utf8')
        .split(/\s+/)
        .filter(Boolean)
        .map(Number);
    } catch {
      return [];
    }
  });
}
