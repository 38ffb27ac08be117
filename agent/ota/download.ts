/**
 * Where payload bytes come from: a local file (an update on a USB stick) or an HTTP(S) server. A
 * source yields the payload from a given offset to its end, so an interrupted transfer resumes with
 * `Range: bytes=<offset>-` (RFC 9110 §14) instead of starting over. One `read` is one attempt; the
 * transfer loop (transfer.ts) retries. Failures are `InstallError('EDOWNLOAD')`:
 *  - transient (retry with backoff): network errors, 408, 429 and 5xx (with the `Retry-After` the
 *    server asked for, which the transfer clamps to its backoff maximum), no response headers within
 *    `headerTimeoutMs` (a server dripping header bytes keeps the socket from idling, so the idle timer
 *    alone would wait for days), a stalled or too-slow body (less than `lowSpeedBytesPerS` over
 *    `lowSpeedWindowMs`, like curl's `--speed-limit`/`--speed-time`);
 *  - fatal: any other 4xx (`http-404`), a declared length that is not the manifest's size, a
 *    `Content-Range` that does not start at the requested offset, more than 5 redirects.
 * A server that ignores `Range` (200 instead of 206) is handled by skipping the bytes already held.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import { InstallError } from './install-errors.js';

export interface PayloadSource {
  /** For logs and status: the file path or URL. */
  readonly origin: string;
  /** The payload's bytes from `offset` to its end. */
  read(offset: number, signal: AbortSignal): AsyncIterable<Buffer>;
  /**
   * For sources with random access (files): fills `target` from `position`, returning the bytes
   * read (fewer only at the end; 0 past it). The transfer then reads straight into its buffers.
   */
  readInto?(target: Buffer, position: number): Promise<number>;
  /** Releases what `readInto` holds open. */
  close?(): Promise<void>;
}

/**
 * A local file, read with one read ahead into two reused buffers (no garbage per read: the install's
 * RSS stays flat whatever the image size). A yielded buffer stays valid until the next is requested.
 */
export class FilePayloadSource implements PayloadSource {
  readonly origin: string;
  readonly #readBytes: number;
  #handle: Promise<FileHandle> | undefined;

  constructor(file: string, options: { readBytes?: number } = {}) {
    this.origin = file;
    this.#readBytes = options.readBytes ?? 1 << 20;
  }

  async readInto(target: Buffer, position: number): Promise<number> {
    this.#handle ??= open(this.origin, 'r');
    let handle: FileHandle;
    try {
      handle = await this.#handle;
    } catch (e) {
      this.#handle = undefined;
      throw new InstallError('EDOWNLOAD', 'source-read', `cannot read ${this.origin}: ${errorMessage(e)}`, {
        cause: e,
      });
    }
    let done = 0;
    while (done < target.length) {
      const { bytesRead } = await handle.read(target, done, target.length - done, position + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done;
  }

  /** Closes the handle `readInto` opened. */
  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await (await handle?.catch(() => undefined))?.close();
  }

  async *read(offset: number, signal: AbortSignal): AsyncIterable<Buffer> {
    let handle: FileHandle;
    try {
      handle = await open(this.origin, 'r');
    } catch (e) {
      throw new InstallError('EDOWNLOAD', 'source-read', `cannot read ${this.origin}: ${errorMessage(e)}`, {
        cause: e,
      });
    }
    const bufs = [Buffer.allocUnsafe(this.#readBytes), Buffer.allocUnsafe(this.#readBytes)];
    let pos = offset;
    let i = 0;
    let next = handle.read(bufs[0]!, 0, this.#readBytes, pos);
    try {
      for (;;) {
        const { bytesRead, buffer } = await next;
        signal.throwIfAborted();
        if (bytesRead === 0) return;
        pos += bytesRead;
        i ^= 1;
        next = handle.read(bufs[i]!, 0, this.#readBytes, pos);
        yield buffer.subarray(0, bytesRead);
      }
    } finally {
      await next.catch(() => undefined); // the read ahead, when the consumer stopped early
      await handle.close();
    }
  }
}

export interface HttpSourceOptions {
  readonly url: string;
  /** The manifest's `size`: a response declaring another length is refused. */
  readonly sizeBytes: number;
  readonly clock: Clock;
  /** Abort an attempt that moves fewer bytes than this per second over `lowSpeedWindowMs`. */
  readonly lowSpeedBytesPerS?: number;
  readonly lowSpeedWindowMs?: number;
  /** Socket idle timeout (connect, headers, body). */
  readonly idleTimeoutMs?: number;
  /** From sending the request to having the response headers, whatever trickles meanwhile. */
  readonly headerTimeoutMs?: number;
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Client certificate and CA for https (an update server that authenticates devices by mTLS). */
  readonly tls?: Readonly<Pick<SecureContextOptions, 'ca' | 'cert' | 'key'>> | undefined;
  /** Called every `gcEveryBytes` of body: a minor-GC hint (gc-hint.ts) that keeps socket garbage low. */
  readonly collectGarbage?: (() => void) | undefined;
  readonly gcEveryBytes?: number;
}

const MAX_REDIRECTS = 5;

export class HttpPayloadSource implements PayloadSource {
  readonly origin: string;
  readonly #o: HttpSourceOptions;

  constructor(options: HttpSourceOptions) {
    if (!/^https?:\/\//i.test(options.url)) throw new TypeError(`url must be http(s), got ${options.url}`);
    this.origin = options.url;
    this.#o = options;
  }

  /** True once the server answered a `Range` request with the whole payload (200). */
  rangeIgnored = false;

  read(offset: number, signal: AbortSignal): AsyncIterable<Buffer> {
    return this.readRange(offset, this.#o.sizeBytes, signal);
  }

  /**
   * The payload's bytes from `offset` up to `end` (exclusive), asked for with
   * `Range: bytes=<offset>-<end-1>`. A server that ignores `Range` sends the whole payload: the bytes
   * before `offset` are skipped, everything after is yielded (to the payload's end: it is on its way
   * anyway), and `rangeIgnored` is set so the caller stops asking for pieces.
   */
  async *readRange(offset: number, end: number, signal: AbortSignal): AsyncIterable<Buffer> {
    if (offset >= end) return;
    let url = new URL(this.#o.url);
    for (let redirects = 0; ; redirects++) {
      const res = await this.#request(url, offset, end, signal);
      const status = res.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
        res.resume();
        if (redirects >= MAX_REDIRECTS)
          throw fatal('too-many-redirects', `more than ${MAX_REDIRECTS} redirects`);
        url = new URL(res.headers.location, url);
        continue;
      }
      const skip = this.#check(res, offset);
      if (res.statusCode === 200 && (offset > 0 || end < this.#o.sizeBytes)) this.rangeIgnored = true;
      // To the end (asked for, or all a server ignoring Range offers): no limit, so a server sending
      // more than `size` is caught (transfer.ts: size-exceeded).
      const bounded = end < this.#o.sizeBytes && res.statusCode === 206;
      yield* this.#body(res, skip, bounded ? end - offset : Number.POSITIVE_INFINITY, signal);
      return;
    }
  }

  /** Validates status and lengths; returns how many leading bytes to skip (a server ignoring Range). */
  #check(res: IncomingMessage, offset: number): number {
    const status = res.statusCode ?? 0;
    const size = this.#o.sizeBytes;
    if (status === 200) {
      const length = headerInt(res.headers['content-length']);
      if (length !== undefined && length !== size) {
        res.resume();
        throw fatal('size-mismatch', `server sends ${length} bytes, the manifest says ${size}`);
      }
      return offset;
    }
    if (status === 206) {
      const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers['content-range'] ?? ''));
      if (!range || Number(range[1]) !== offset) {
        res.resume();
        throw fatal('bad-range', `Content-Range ${res.headers['content-range']} does not start at ${offset}`);
      }
      if (range[3] !== '*' && Number(range[3]) !== size) {
        res.resume();
        throw fatal('size-mismatch', `server holds ${range[3]} bytes, the manifest says ${size}`);
      }
      return 0;
    }
    res.resume();
    if (status === 416) throw fatal('size-mismatch', `server has fewer than ${offset + 1} bytes (416)`);
    if (status === 408 || status === 429 || status >= 500) {
      throw new InstallError('EDOWNLOAD', `http-${status}`, `HTTP ${status} from ${this.origin}`, {
        transient: true,
        ...retryAfter(res.headers['retry-after'], this.#o.clock),
      });
    }
    throw fatal(`http-${status}`, `HTTP ${status} from ${this.origin}`);
  }

  async *#body(
    res: IncomingMessage,
    skip: number,
    limit: number,
    signal: AbortSignal,
  ): AsyncIterable<Buffer> {
    let left = limit;
    const windowMs = this.#o.lowSpeedWindowMs ?? 30_000;
    const minBytes = ((this.#o.lowSpeedBytesPerS ?? 1024) * windowMs) / 1000;
    let inWindow = 0;
    let sinceGc = 0;
    const gcEvery = this.#o.gcEveryBytes ?? 1 << 20;
    const timer = this.#o.clock.setInterval(() => {
      if (inWindow < minBytes) {
        res.destroy(
          new InstallError('EDOWNLOAD', 'low-speed', `fewer than ${minBytes} bytes in ${windowMs} ms`, {
            transient: true,
          }),
        );
      }
      inWindow = 0;
    }, windowMs);
    const onAbort = () => res.destroy(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const chunk of res as AsyncIterable<Buffer>) {
        inWindow += chunk.length;
        sinceGc += chunk.length;
        if (sinceGc >= gcEvery && this.#o.collectGarbage) {
          sinceGc = 0;
          this.#o.collectGarbage();
        }
        if (skip >= chunk.length) {
          skip -= chunk.length;
          continue;
        }
        const piece = chunk.subarray(skip, skip + left);
        skip = 0;
        left -= piece.length;
        yield piece;
        if (left === 0) return;
      }
      // A body cut short (a dropped connection) ends the iteration or throws 'aborted'; the transfer
      // loop sees fewer bytes than expected and retries from where it got to.
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      if (e instanceof InstallError) throw e;
      // The server closed the connection before the length it declared (Node: 'aborted').
      throw new InstallError('EDOWNLOAD', 'truncated', `connection closed early: ${errorMessage(e)}`, {
        transient: true,
        cause: e,
      });
    } finally {
      timer.cancel();
      signal.removeEventListener('abort', onAbort);
      res.destroy();
    }
  }

  #request(url: URL, offset: number, end: number, signal: AbortSignal): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      // The configured headers (an update server's token) go only to its own origin: a redirect to a
      // CDN or object store gets none, as curl does — it would refuse a foreign Authorization anyway.
      const own = url.origin === new URL(this.#o.url).origin;
      const headers: Record<string, string> = {
        'accept-encoding': 'identity',
        ...(own ? this.#o.headers : {}),
        ...(end < this.#o.sizeBytes
          ? { range: `bytes=${offset}-${end - 1}` }
          : offset > 0
            ? { range: `bytes=${offset}-` }
            : {}),
      };
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const headerMs = this.#o.headerTimeoutMs ?? 30_000;
      const headerTimer = this.#o.clock.setTimeout(
        () =>
          req.destroy(
            new InstallError(
              'EDOWNLOAD',
              'header-timeout',
              `no response headers from ${url.host} in ${headerMs} ms`,
              {
                transient: true,
              },
            ),
          ),
        headerMs,
      );
      const tls = own && url.protocol === 'https:' ? this.#o.tls : undefined;
      const req = send(url, { method: 'GET', headers, signal, ...tls }, (res) => {
        headerTimer.cancel();
        resolve(res);
      });
      req.once('close', () => headerTimer.cancel());
      req.setTimeout(this.#o.idleTimeoutMs ?? 30_000, () =>
        req.destroy(
          new InstallError('EDOWNLOAD', 'timeout', `no data from ${url.host}`, { transient: true }),
        ),
      );
      req.once('error', (e) => reject(signal.aborted ? signal.reason : transientOf(e)));
      req.end();
    });
  }
}

function fatal(reason: string, message: string): InstallError {
  return new InstallError('EDOWNLOAD', reason, message);
}

function transientOf(e: unknown): InstallError {
  if (e instanceof InstallError) return e;
  const code = (e as { code?: string }).code;
  return new InstallError(
    'EDOWNLOAD',
    code ? code.toLowerCase() : 'network',
    `download: ${errorMessage(e)}`,
    {
      transient: true,
      cause: e,
    },
  );
}

function headerInt(v: string | string[] | undefined): number | undefined {
  return typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
}

/**
 * `Retry-After`: delta-seconds or an HTTP-date (RFC 9110 §10.2.3), as the server asked — possibly
 * weeks; the transfer clamps it to its backoff maximum.
 */
function retryAfter(v: string | string[] | undefined, clock: Clock): { retryAfterMs?: number } {
  if (typeof v !== 'string') return {};
  if (/^\d+$/.test(v.trim())) return { retryAfterMs: Number(v.trim()) * 1000 };
  const at = Date.parse(v);
  return Number.isNaN(at) ? {} : { retryAfterMs: Math.max(0, at - clock.nowMs()) };
}
