/**
 * `node dist/scripts/console-captures.js [--out FILE]`: what a technician sees on an 80×24 terminal,
 * for README's console section. Runs `npm start`'s agent (config/dev.yaml on the emulated device, its
 * state in a temporary directory), logs in as `tech` over the console socket announcing an 80×24
 * terminal, types each command below and keeps what came back, the escape sequences interpreted
 * (colour dropped, erased lines erased, a cleared screen cleared). Prints Markdown: one fenced block
 * per screen, headed by the command typed.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeHello } from '../agent/console/socket-hello.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const COLUMNS = 80;
const ROWS = 24;
const PROMPT = 'tech@edge> ';
const MORE = '-- More --';
const ESC = '\x1b';
const CLEAR_SCREEN = `${ESC}[H${ESC}[2J`;
const SGR = new RegExp(`${ESC}\\[[0-9;]*m`, 'g');

/** What is typed, in order; `keys` answer a pager or stop a live view after a pause. */
const SCREENS: readonly { readonly line: string; readonly keys?: string }[] = [
  { line: 'status' },
  { line: 'help' },
  { line: 'points' },
  { line: 'points watch chamber', keys: 'q' },
  { line: 'loops' },
  { line: 'devices' },
  { line: 'rules' },
  { line: 'alarms' },
  { line: 'telemetry' },
  { line: 'ota status' },
  { line: 'identity' },
  { line: 'logs -l warn -n 5' },
  { line: 'loop set chamber setpoint 80' },
  { line: 'loop set chamber setpoint 50', keys: 'n\r' },
];

const outIndex = process.argv.indexOf('--out');
const work = await mkdtemp(path.join(tmpdir(), 'edge-captures-'));
const agent = await startAgent(work);
try {
  const screens = await captureAll(path.join(work, 'var/state/console.sock'));
  const markdown = screens.map(({ line, text }) => `\`${line}\`:\n\n\`\`\`\n${text}\n\`\`\`\n`).join('\n');
  if (outIndex >= 0) await writeFile(process.argv[outIndex + 1]!, markdown);
  else process.stdout.write(markdown);
} finally {
  agent.kill('SIGTERM');
  await new Promise((resolve) => agent.once('exit', resolve));
  await rm(work, { recursive: true, force: true });
}

async function startAgent(dir: string) {
  const config = (await readFile(path.join(ROOT, 'config/dev.yaml'), 'utf8'))
    .replaceAll('../boards/', `${ROOT}/boards/`)
    .replaceAll('../wiring/', `${ROOT}/wiring/`);
  const configFile = path.join(dir, 'config/dev.yaml');
  await mkdir(path.dirname(configFile), { recursive: true });
  await writeFile(configFile, config);
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'dist/scripts/ota-emulator/main.js'), '--config', configFile],
    {
      env: { ...process.env, EDGE_AGENT_CONSOLE_STDIO: 'false', EDGE_AGENT_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  return child;
}

async function captureAll(socketPath: string): Promise<{ line: string; text: string }[]> {
  const socket = await connectWhenReady(socketPath, 60_000);
  let received = '';
  socket.setEncoding('utf8').on('data', (d: string) => {
    received += d;
  });
  const waitFor = async (text: string, from: number, ms = 5000) => {
    const deadline = Date.now() + ms;
    while (!strip(received.slice(from)).includes(text)) {
      if (Date.now() > deadline)
        throw new Error(
          `the console never showed ${JSON.stringify(text)}; it showed ${JSON.stringify(received.slice(from))}`,
        );
      await pause(20);
    }
  };
  socket.write(encodeHello({ tty: true, columns: COLUMNS, rows: ROWS }));
  await pause(300);
  socket.write('\r'); // a technician's first Enter: the banner
  await waitFor('login:', 0);
  // Readings, loops and telemetry need a few seconds of running before they say much.
  await pause(8000);
  let from = received.length;
  socket.write('\r');
  await waitFor('login:', from);
  await pause(100);
  socket.write('tech\r');
  await waitFor('password:', from);
  socket.write('simulator\r');
  await waitFor(PROMPT, from);
  const screens = [
    { line: 'Enter at login:, then the login', text: screenOf(`login: ${received.slice(from)}`) },
  ];
  for (const { line, keys } of SCREENS) {
    from = received.length;
    socket.write(`${line}\r`);
    if (keys) {
      await pause(1500);
      socket.write(keys);
    }
    const echoed = from + line.length;
    await waitFor(PROMPT, echoed).catch(async (error: unknown) => {
      if (!strip(received.slice(from)).includes(MORE)) throw error;
      socket.write('q'); // the first page is the capture
      await waitFor(PROMPT, echoed);
    });
    screens.push({ line, text: screenOf(`${PROMPT}${received.slice(from)}`) });
  }
  socket.write('logout\r');
  socket.end();
  return screens;
}

async function connectWhenReady(socketPath: string, ms: number): Promise<Socket> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect(socketPath, () => resolve(s)).once('error', reject);
      });
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await pause(200);
    }
  }
}

/** The last ROWS rows of what a terminal would show, the trailing prompt dropped. */
function screenOf(raw: string): string {
  const cleared = raw.lastIndexOf(CLEAR_SCREEN);
  const lines = strip(cleared >= 0 ? raw.slice(cleared + CLEAR_SCREEN.length) : raw)
    .split('\r\n')
    .map((l) => l.slice(l.lastIndexOf('\r') + 1).trimEnd());
  while (lines.length > 0 && (lines.at(-1) === '' || lines.at(-1) === PROMPT.trimEnd())) lines.pop();
  // A line longer than the screen wraps onto the next row, as the terminal shows it.
  const rows = lines.flatMap((l) => l.match(new RegExp(`.{1,${COLUMNS}}`, 'gu')) ?? ['']);
  return rows.slice(-ROWS).join('\n');
}

/** Colour dropped; an erased line (`CR ESC [K`) leaves only what followed it. */
function strip(text: string): string {
  return text.replace(SGR, '').replaceAll(`\r${ESC}[K`, '\r');
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
