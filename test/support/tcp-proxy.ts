/**
 * A loopback TCP proxy in front of a real server, for tests that need a connection to die the way a
 * cable pull or a NAT timeout kills it: `cut()` destroys both sides of every open connection, so the
 * client and the broker each see the socket close without a protocol goodbye. New connections are
 * forwarded as before. `injectToClients(bytes)` plays a hostile or broken server: the bytes reach
 * every connected client as if the server had sent them. `stallAfterFirstReply()` plays a server that
 * answers the next connection once (an MQTT CONNACK) and then never again, the connection left open.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export class TcpProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #clients = new Set<Socket>();
  #stall: (() => void) | undefined;
  connections = 0;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy: TcpProxy = new TcpProxy(
      createServer((client) => {
        proxy.connections++;
        proxy.#clients.add(client);
        client.on('close', () => proxy.#clients.delete(client));
        const upstream = createConnection(target);
        const stalled = proxy.#stall;
        proxy.#stall = undefined;
        for (const [a, b] of [
          [client, upstream],
          [upstream, client],
        ] as const) {
          proxy.#sockets.add(a);
          if (a === upstream && stalled) {
            upstream.once('data', (first) => {
              upstream.pause(); // whatever follows stays in the proxy
              // Resolved when the client answers that reply (an MQTT client's first PUBLISH).
              client.write(first, () => client.once('data', () => stalled()));
            });
          } else {
            a.pipe(b);
          }
          a.on('error', () => b.destroy());
          a.on('close', () => {
            proxy.#sockets.delete(a);
            b.destroy();
          });
        }
      }),
    );
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  /** The loopback port clients connect to instead of the target's. */
  get port(): number {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy is not listening');
    return address.port;
  }

  /** Writes `bytes` to every connected client, as if the server had sent them. */
  injectToClients(bytes: Uint8Array): void {
    for (const c of this.#clients) c.write(bytes);
  }

  /**
   * The next connection gets the server's first reply and nothing after it; resolves once the client
   * has sent something after that reply (and waits for an answer that never comes).
   */
  stallAfterFirstReply(): Promise<void> {
    return new Promise((resolve) => {
      this.#stall = resolve;
    });
  }

  /** Kills every open connection, both ways, with no protocol goodbye. */
  cut(): void {
    for (const s of this.#sockets) s.destroy();
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
