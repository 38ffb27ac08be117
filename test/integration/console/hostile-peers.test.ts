/**
 * The console's transports against hostile peers, over a real Unix socket and a real pty (issue 20,
 * points 1 and 11): megabytes without a newline before login, more connections than allowed, a client
 * that sends and never reads, and a flood on the serial port.
 */
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SerialConsole } from '../../../agent/console/serial-console.js';
import { SystemClock } from '../../../agent/core/clock.js';
import { silentLogger } from '../../../agent/core/log.js';
import { LinuxSerial } from '../../../agent/hal/serial/linux.js';
import { testRegistry } from '../../support/console-harness.js';
import { FakeClock } from '../../support/fake-clock.js';
import { openPtyPair } from '../../support/pty-pair.js';
import { realTimeConsoleServer, startSocketConsole } from '../../support/real-time-console.js';
import { describeWithTools } from '../../support/system-tools.js';
import { tempDirs } from '../../support/temp-dir.js';
import { until } from '../../support/until.js';

const tempDir = tempDirs('edge-hostile-console-');
const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});
const MiB = 1024 * 1024;

async function consoleServer(dir: string) {
  const commands = testRegistry(new FakeClock()).registry;
  return (
    await realTimeConsoleServer(dir, {
      commands,
      banner: 'edge-agent 9.9.9 on socket',
      loginTimeoutMs: 60_000,
    })
  ).server;
}

async function startSocket(options: { maxConnections?: number } = {}) {
  const rig = await startSocketConsole(await tempDir(), {
    commands: testRegistry(new FakeClock()).registry,
    banner: 'edge-agent 9.9.9 on socket',
    loginTimeoutMs: 60_000,
    socketName: 'c.sock',
    ...options,
  });
  stops.push(rig.stop);
  return { server: rig.server, socket: rig.socket };
}

interface Client {
  readonly socket: Socket;
  text: () => string;
  closed: () => boolean;
}

function client(file: string, options: { allowHalfOpen?: boolean } = {}): Client {
  const socket = connect({ path: file, ...options });
  let text = '';
  let closed = false;
  socket.setEncoding('latin1').on('data', (d: string) => {
    text += d;
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closed = true;
  });
  stops.push(async () => socket.destroy());
  return { socket, text: () => text, closed: () => closed };
}

/** Writes `chunk` until the peer stops taking it for `quietMs`; returns the bytes it took. */
async function pushUntilRefused(
  socket: Socket,
  chunk: Buffer,
  maxBytes: number,
  quietMs = 500,
): Promise<number> {
  let accepted = 0;
  let queued = 0;
  while (queued < maxBytes && !socket.destroyed) {
    const before = accepted;
    while (socket.writableLength < 4 * chunk.length && queued < maxBytes) {
      queued += chunk.length;
      socket.write(chunk, () => {
        accepted += chunk.length;
      });
    }
    // A window in which progress must *not* happen, once the agent stops reading.
    await new Promise((r) => setTimeout(r, quietMs));
    if (accepted === before) break;
  }
  return accepted;
}

describe('the console socket against hostile clients', () => {
  it('hangs up on 64 MiB sent with no newline and no credentials, having read little of it', async () => {
    const { socket, server } = await startSocket();
    // Half-open, as a hostile client may be: it keeps sending after the agent has ended its side.
    const c = client(socket.path, { allowHalfOpen: true });
    await until(() => c.text().includes('login: '), 'the login prompt');
    const accepted = await pushUntilRefused(c.socket, Buffer.alloc(64 * 1024, 'a'), 64 * MiB);
    expect(server.sessions).toHaveLength(0);
    await until(c.closed, 'the agent hanging up');
    expect(c.text()).toContain('*** input flood: disconnected ***');
    expect(accepted).toBeLessThan(8 * MiB);
  });

  it('refuses connections beyond maxConnections with one line, and takes new ones when some close', async () => {
    const { socket } = await startSocket({ maxConnections: 2 });
    const open = [client(socket.path), client(socket.path)];
    for (const c of open) await until(() => c.text().includes('login: '), 'a login prompt');
    const extra = client(socket.path);
    await until(extra.closed, 'the extra connection closed');
    expect(extra.text()).toBe('edge-agent console: too many connections (2 open); try again later\n');
    open[0]!.socket.destroy();
    await until(open[0]!.closed, 'the first connection closed');
    const next = client(socket.path);
    await until(() => next.text().includes('login: '), 'a login prompt on a freed place');
  });

  it('stops reading a client that sends `help` forever and never reads the answers', async () => {
    const { socket } = await startSocket();
    const c = client(socket.path);
    await until(() => c.text().includes('login: '), 'the login prompt');
    c.socket.pause();
    // Each 5-byte `help` line is answered with ~90 bytes: unread, they would pile up in the agent.
    const accepted = await pushUntilRefused(c.socket, Buffer.from('help\r'.repeat(13_000)), 64 * MiB);
    expect(accepted).toBeLessThan(8 * MiB);
    expect(c.closed()).toBe(false);
  });
});

describeWithTools(['socat'], 'the serial console against a flood', () => {
  it('closes and reopens the port when a peer floods before login', async () => {
    const pty = await openPtyPair();
    const clock = new SystemClock();
    const server = await consoleServer(await tempDir());
    const serial = new SerialConsole(
      { server, log: silentLogger(), clock, backend: new LinuxSerial() },
      { path: pty.paths[0], baudRate: 115200 },
    );
    serial.start();
    const technician = await new LinuxSerial().open({ path: pty.paths[1], baudRate: 115200 });
    stops.push(async () => {
      await server.close('test over');
      await serial.stop();
      await technician.close();
      await pty.close();
    });
    let screen = '';
    technician.onData((chunk) => {
      screen += Buffer.from(chunk).toString('latin1');
    });
    await until(() => screen.includes('login: '), 'the login prompt');
    for (let i = 0; i < 16 && !screen.includes('input flood'); i++) {
      await technician.write(Buffer.alloc(1024, 'z'));
    }
    await until(() => screen.includes('*** input flood: disconnected ***'), 'the flood noticed');
    const after = screen.length;
    await until(
      () => screen.slice(after).includes('login: '),
      'a fresh login prompt after reopening',
      10_000,
    );
  });
});
