/**
 * JSON over HTTP(S) to a hawkBit server, as a DDI client speaks it: `Accept: application/hal+json`,
 * the target's or gateway's token in `Authorization`, the client certificate of `link.tls` on https,
 * one deadline per request (on the injected clock). Answers are returned with their status; only a
 * failure to get one at all (refused, reset, timed out) throws — as `DdiUnreachable`, which the poll
 * loop backs off from like a 5xx.
 */
import { readFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import type { Clock } from '../../core/clock.js';

/** The most a DDI answer or a manifest artifact may be; a larger body is refused, not buffered. */
export const MAX_DDI_BODY_BYTES = 1 << 20;

type TlsFiles = Readonly<Pick<SecureContextOptions, 'ca' | 'cert' | 'key'>>;

export interface DdiHttpOptions {
  readonly clock: Clock;
  /** `TargetToken abc…` or `GatewayToken abc…`; none with mTLS. */
  readonly authorization?: string | undefined;
  /** PEM files (`link.tls`): CA, client certificate and key, read by `load()`. */
  readonly tlsFiles?: {
    readonly ca?: string | undefined;
    readonly cert?: string | undefined;
    readonly key?: string | undefined;
  };
  readonly timeoutMs: number;
}

export interface DdiAnswer {
  readonly status: number;
  readonly body: Buffer;
}

export class DdiUnreachable extends Error {
  override readonly name = 'DdiUnreachable';
}

export class DdiHttp {
  readonly #o: DdiHttpOptions;
  #tls: TlsFiles | undefined;

  constructor(options: DdiHttpOptions) {
    this.#o = options;
  }

  /** Reads the TLS files (at start: a missing file is an error then, not at the first request). */
  async load(): Promise<void> {
    const f = this.#o.tlsFiles;
    if (!f || (!f.ca && !f.cert)) return;
    const read = (p: string | undefined) => (p ? readFile(p) : undefined);
    const [ca, cert, key] = await Promise.all([read(f.ca), read(f.cert), read(f.key)]);
    this.#tls = { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  }

  /** Headers and TLS for a download from this server (the installer's payload stream). */
  downloadOptions(): { headers?: Record<string, string>; tls?: TlsFiles } {
    return {
      ...(this.#o.authorization ? { headers: { authorization: this.#o.authorization } } : {}),
      ...(this.#tls ? { tls: this.#tls } : {}),
    };
  }

  get(url: string, accept = 'application/hal+json'): Promise<DdiAnswer> {
    return this.#send('GET', url, undefined, accept);
  }

  put(url: string, body: unknown): Promise<DdiAnswer> {
    return this.#send('PUT', url, body);
  }

  post(url: string, body: unknown): Promise<DdiAnswer> {
    return this.#send('POST', url, body);
  }

  #send(method: string, url: string, body: unknown, accept = 'application/hal+json'): Promise<DdiAnswer> {
    const target = new URL(url);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = {
      accept,
      ...(this.#o.authorization ? { authorization: this.#o.authorization } : {}),
      ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
    };
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const tls = target.protocol === 'https:' ? this.#tls : undefined;
    return new Promise<DdiAnswer>((resolve, reject) => {
      const fail = (why: string) =>
        reject(new DdiUnreachable(`${method} ${target.host}${target.pathname}: ${why}`));
      const req = send(target, { method, headers, ...tls }, (res) => {
        readBody(res).then(
          (b) => resolve({ status: res.statusCode ?? 0, body: b }),
          (e: unknown) => fail(e instanceof Error ? e.message : String(e)),
        );
      });
      const timer = this.#o.clock.setTimeout(
        () => req.destroy(new Error(`no answer within ${this.#o.timeoutMs} ms`)),
        this.#o.timeoutMs,
      );
      req.once('close', () => timer.cancel());
      req.once('error', (e) => fail(e.message));
      req.end(payload);
    });
  }
}

function readBody(res: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let length = 0;
    res.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > MAX_DDI_BODY_BYTES) {
        res.destroy(new Error(`answer larger than ${MAX_DDI_BODY_BYTES} bytes`));
        return;
      }
      parts.push(chunk);
    });
    res.once('end', () => resolve(Buffer.concat(parts)));
    res.once('error', reject);
    res.once('aborted', () => reject(new Error('connection closed mid-answer')));
  });
}

/** An answer other than the one expected: 401/403 (the token), 5xx (the server), anything else. */
export class DdiStatusError extends Error {
  override readonly name = 'DdiStatusError';
  readonly status: number;

  constructor(what: string, answer: DdiAnswer) {
    const hint =
      answer.status === 401 || answer.status === 403
        ? ' (check ota.hawkbit.auth: the token, or the client certificate)'
        : answer.status === 404
          ? ' (check ota.hawkbit.url, tenant and controllerId: does the target exist?)'
          : '';
    super(`hawkBit answered ${answer.status} to the ${what}${hint}`);
    this.status = answer.status;
  }
}
