/**
 * A loopback HTTP server for update payloads, started by a test: serves byte buffers with
 * `Range: bytes=N-` and `bytes=N-M` support (206 + Content-Range), counts the body bytes it sends, and can misbehave
 * on purpose — a status sequence (503 with Retry-After, 404), a connection dropped after N bytes,
 * Range ignored, an endless body, a trickle, a status line whose headers drip in one byte at a time.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { drained } from '../../scripts/bench/drained.js';

export interface Fault {
  /** Answer with this status (no body) instead of the payload. */
  readonly status?: number;
  /** `Retry-After`: delta-seconds, or any text (an HTTP-date). */
  readonly retryAfterS?: number | string;
  /** Send a status line, then one header byte every this many ms, never finishing the headers. */
  readonly dripHeadersEveryMs?: number;
  /** Send this many body bytes, then destroy the connection. */
  readonly dropAfterBytes?: number;
  /** Ignore Range and answer 200 with the whole body. */
  readonly ignoreRange?: boolean;
  /** After the payload, keep sending zero bytes forever (no Content-Length). */
  readonly endless?: boolean;
  /** Send the body in pieces of this size with `trickleDelayMs` between them. */
  readonly trickleBytes?: number;
  readonly trickleDelayMs?: number;
}

export class PayloadServer {
  readonly #files = new Map<string, Uint8Array>();
  readonly #faults: Fault[] = [];
  #server: Server | undefined;
  /** Body bytes sent, over all requests. */
  sentBytes = 0;
  /** Answer every request with the whole payload (200), as a server without Range support does. */
  ignoreRanges = false;
  readonly requests: {
    path: string;
    range: string | undefined;
    status: number;
    authorization: string | undefined;
  }[] = [];

  serve(urlPath: string, data: Uint8Array): void {
    this.#files.set(urlPath, data);
  }

  /** Faults to apply to the next requests, one per request, in order. */
  fail(...faults: Fault[]): void {
    this.#faults.push(...faults);
  }

  /** Forgets the faults not used yet. */
  clearFaults(): void {
    this.#faults.length = 0;
  }

  url(urlPath: string): string {
    const port = (this.#server?.address() as AddressInfo | null)?.port;
    if (!port) throw new Error('server not started');
    return `http://127.0.0.1:${port}${urlPath}`;
  }

  async start(): Promise<void> {
    this.#server = createServer((req, res) => this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.#server = undefined;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const data = this.#files.get(req.url ?? '');
    const fault = this.#faults.shift() ?? {};
    const range = req.headers.range;
    const record = (status: number) =>
      this.requests.push({ path: req.url ?? '', range, status, authorization: req.headers.authorization });
    if (fault.dripHeadersEveryMs !== undefined) {
      record(200);
      const socket = req.socket;
      socket.write('HTTP/1.1 200 OK\r\nx-drip: ');
      const timer = setInterval(() => socket.write('.'), fault.dripHeadersEveryMs);
      socket.once('close', () => clearInterval(timer));
      return;
    }
    if (fault.status) {
      record(fault.status);
      res.writeHead(
        fault.status,
        fault.retryAfterS !== undefined ? { 'retry-after': String(fault.retryAfterS) } : {},
      );
      res.end();
      return;
    }
    if (!data) {
      record(404);
      res.writeHead(404).end();
      return;
    }
    const m = /^bytes=(\d+)-(\d*)$/.exec(range ?? '');
    const ranged = m !== null && !fault.ignoreRange && !this.ignoreRanges;
    const start = ranged ? Number(m[1]) : 0;
    const last = ranged && m[2] !== '' ? Math.min(Number(m[2]), data.length - 1) : data.length - 1;
    if (start > data.length) {
      record(416);
      res.writeHead(416, { 'content-range': `bytes */${data.length}` }).end();
      return;
    }
    let body = data.subarray(start, last + 1);
    if (fault.dropAfterBytes !== undefined) body = body.subarray(0, fault.dropAfterBytes);
    const status = ranged ? 206 : 200;
    record(status);
    const headers: Record<string, string> = fault.endless
      ? {}
      : {
          'content-length': String(last + 1 - start),
          ...(status === 206 ? { 'content-range': `bytes ${start}-${last}/${data.length}` } : {}),
        };
    res.writeHead(status, headers);
    res.flushHeaders();
    void this.#send(res, body, fault);
  }

  async #send(res: ServerResponse, body: Uint8Array, fault: Fault): Promise<void> {
    const piece = fault.trickleBytes ?? 64 * 1024;
    for (let pos = 0; pos < body.length && !res.destroyed; pos += piece) {
      const part = body.subarray(pos, pos + piece);
      this.sentBytes += part.length;
      if (!res.write(part)) await drained(res);
      if (fault.trickleDelayMs) await new Promise((r) => setTimeout(r, fault.trickleDelayMs));
    }
    if (fault.dropAfterBytes !== undefined) {
      res.destroy();
      return;
    }
    if (fault.endless) {
      const zeros = Buffer.alloc(64 * 1024);
      while (!res.destroyed) {
        this.sentBytes += zeros.length;
        if (!res.write(zeros)) await drained(res);
      }
      return;
    }
    res.end();
  }
}
