/**
 * A hawkBit DDI server for tests: the device side of the Eclipse hawkBit Direct Device Integration API
 * v1 on loopback HTTP, written from hawkBit's code and documentation (https://eclipse.dev/hawkbit/apis/ddi_api,
 * the OpenAPI document at https://eclipse.dev/hawkbit/rest-api/ddi/, and in eclipse-hawkbit/hawkbit
 * `DdiRootControllerRestApi`, `DdiRootController`, `DataConversionHelper`, `ResponseExceptionHandler`,
 * `SecurityTokenAuthenticator`, `GatewayTokenAuthenticator`) so that a client that passes against it
 * works against a real hawkBit. The shapes are in `ddi-types.ts`, the action state machine in
 * `ddi-actions.ts`, artifact streaming in `ddi-artifact.ts`; each names its sources.
 *
 * What a device meets, as hawkBit does it:
 * - Every path is under `/{tenant}/controller/v1/{controllerId}`. `Authorization: TargetToken <t>` (that
 *   target's token) or `GatewayToken <t>` (the tenant's) — scheme spelled exactly so — else 401, no body.
 *   A base poll with the gateway token registers an unknown controller, as hawkBit does.
 * - Then, in Spring's order: unknown path 404, wrong method 405, a body that is not `application/json`
 *   415 (hawkBit also takes CBOR; this server does not), a malformed or invalid body 400 with
 *   `hawkbit.server.error.rest.body.notReadable`, an unknown target, action or module 404.
 * - The base poll links the oldest active action: `deploymentBase/{id}?c=<int>` while it is open,
 *   `cancelAction/{id}` while it is being canceled; `installedBase/{id}` for the last success;
 *   `configData` on first contact, after a success and on `requestConfigData`. Hrefs are absolute,
 *   built from the request's Host.
 * - Assigning while an action is open cancels the open one (no multi-assignment).
 * - JSON answers are `application/hal+json` unless `application/json` was asked for, with a shallow
 *   ETag; a GET with a matching `If-None-Match` is 304 (the documented "Etag based modification check").
 *
 * The control side is TypeScript: `startDdiServer()`, then `addTarget`, `assign`, `cancel`, fault
 * injection (`failNext`, `dropDownloadAfter`), `stop()`/`restart()` on the same port keeping all state,
 * and records of every request, feedback, configData body and artifact response.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ActionRecord,
  type ActionType,
  actionEtag,
  applyCancelFeedback,
  applyConfigData,
  applyDeploymentFeedback,
  type ChunkSpec,
  cancelAction,
  deploymentBase,
  type SoftwareModule,
  type TargetRecord,
  UPDATE_SERVER,
} from './ddi-actions.js';
import { type DownloadRecord, writeArtifact } from './ddi-artifact.js';
import {
  checkActionFeedback,
  checkConfigData,
  type DdiArtifact,
  type DdiMaintenanceWindow,
} from './ddi-types.js';

export type { ActionRecord, ActionState, ActionType, ChunkSpec, TargetRecord } from './ddi-actions.js';

export interface RequestRecord {
  readonly method: string;
  /** Path and query. */
  readonly path: string;
  /** Those present of authorization, range, if-match, if-none-match, content-type, accept. */
  readonly headers: Readonly<Record<string, string>>;
  readonly atMs: number;
  /** The status answered; 0 until the response has ended, and for a connection dropped mid-body. */
  status: number;
  /** Why a body was refused (hawkBit's 400 does not say). */
  reason?: string;
}

export interface DdiServerOptions {
  /** `DEFAULT` unless given. */
  readonly tenant?: string;
  /** `config.polling.sleep`, `HH:MM:SS`; `00:00:01` unless given. */
  readonly pollingSleep?: string;
  readonly gatewayToken?: string;
}

const INTERESTING = ['authorization', 'range', 'if-match', 'if-none-match', 'content-type', 'accept'];
const info = (exception: string, errorCode: string, message: string) => ({
  exceptionClass: `org.eclipse.hawkbit.${exception}`,
  errorCode: `hawkbit.server.error.${errorCode}`,
  message,
});
const NOT_READABLE = info(
  'rest.exception.MessageNotReadableException',
  'rest.body.notReadable',
  'The given request body is not well formed',
);
const INVALID_ATTRIBUTES = info(
  'repository.exception.InvalidTargetAttributeException',
  'repo.invalidTargetAttributes',
  'The given target attributes are invalid',
);
const NOT_CANCELABLE = info(
  'repository.exception.CancelActionNotAllowedException',
  'action.notCancelable',
  'The action is not in canceling state.',
);
const notFound = (entity: string, id: string | undefined) =>
  info(
    'repository.exception.EntityNotFoundException',
    'repo.entityNotFound',
    `${entity} with given identifier {${id}} does not exist.`,
  );
const ROUTES: Record<string, [method: string, route: string]> = {
  '': ['GET', 'base'],
  'deploymentBase/:id': ['GET', 'deploymentBase'],
  'deploymentBase/:id/feedback': ['POST', 'deploymentFeedback'],
  'cancelAction/:id': ['GET', 'cancelAction'],
  'cancelAction/:id/feedback': ['POST', 'cancelFeedback'],
  'installedBase/:id': ['GET', 'installedBase'],
  configData: ['PUT', 'configData'],
  'softwaremodules/:id/artifacts': ['GET', 'artifacts'],
  'softwaremodules/:id/artifacts/:file': ['GET', 'artifact'],
};

export async function startDdiServer(options: DdiServerOptions = {}): Promise<DdiServer> {
  const server = new DdiServer(options);
  await server.restart();
  return server;
}

export class DdiServer {
  readonly tenant: string;
  readonly requests: RequestRecord[] = [];
  readonly actions = new Map<number, ActionRecord>();
  readonly targets = new Map<string, TargetRecord>();
  readonly downloads: DownloadRecord[] = [];
  #pollingSleep: string;
  #gatewayToken: string | undefined;
  #nextId = 1;
  readonly #modules = new Map<number, SoftwareModule>();
  readonly #faults: { count: number; status: number; path: RegExp | undefined; retryAfterS?: number }[] = [];
  #dropAfterBytes: number | undefined;
  #server: Server | undefined;
  #port = 0;

  constructor(options: DdiServerOptions = {}) {
    this.tenant = options.tenant ?? 'DEFAULT';
    this.#pollingSleep = options.pollingSleep ?? '00:00:01';
    this.#gatewayToken = options.gatewayToken;
  }

  /** `http://127.0.0.1:<port>`. */
  get url(): string {
    if (!this.#port) throw new Error('DDI server not started');
    return `http://127.0.0.1:${this.#port}`;
  }

  /** The base poll URL of a controller. */
  controllerUrl(controllerId: string): string {
    return `${this.url}/${this.tenant}/controller/v1/${encodeURIComponent(controllerId)}`;
  }

  addTarget(controllerId: string, opts: { targetToken?: string } = {}): TargetRecord {
    const target = {
      controllerId,
      token: opts.targetToken,
      requestAttributes: true,
      attributes: {},
      configData: [],
    };
    this.targets.set(controllerId, target);
    return target;
  }

  setGatewayToken(token: string | undefined): void {
    this.#gatewayToken = token;
  }

  setPollingSleep(sleep: string): void {
    if (!/^\d\d:[0-5]\d:[0-5]\d$/.test(sleep)) throw new TypeError(`sleep must be HH:MM:SS, not ${sleep}`);
    this.#pollingSleep = sleep;
  }

  requestConfigData(controllerId: string): void {
    this.#target(controllerId).requestAttributes = true;
  }

  /** A new action (`forced` unless `type` says otherwise); an open one of the target is canceled. */
  assign(
    controllerId: string,
    opts: { chunks: readonly ChunkSpec[]; type?: ActionType; maintenanceWindow?: DdiMaintenanceWindow },
  ): number {
    this.#target(controllerId);
    for (const a of this.actions.values())
      if (a.controllerId === controllerId && a.state === 'open') cancelAction(a);
    const modules = opts.chunks.map((spec) => {
      const artifacts = spec.artifacts.map(({ filename, data }) => {
        const bytes = typeof data === 'string' ? readFileSync(data) : Buffer.from(data);
        const hash = (algorithm: string) => createHash(algorithm).update(bytes).digest('hex');
        return {
          filename,
          data: bytes,
          hashes: { sha1: hash('sha1'), md5: hash('md5'), sha256: hash('sha256') },
        };
      });
      const module = { id: this.#nextId++, spec, artifacts };
      this.#modules.set(module.id, module);
      return module;
    });
    const id = this.#nextId++;
    this.actions.set(id, {
      id,
      controllerId,
      type: opts.type ?? 'forced',
      maintenanceWindow: opts.maintenanceWindow,
      modules,
      state: 'open',
      result: undefined,
      status: 'RUNNING',
      messages: [`${UPDATE_SERVER}Assignment initiated by user 'test'`],
      feedback: [],
    });
    return id;
  }

  /** Cancels an open action from the management side; throws for any other state. */
  cancel(actionId: number): void {
    cancelAction(this.action(actionId));
  }

  setMaintenanceWindow(actionId: number, window: DdiMaintenanceWindow): void {
    this.action(actionId).maintenanceWindow = window;
  }

  action(actionId: number): ActionRecord {
    const action = this.actions.get(actionId);
    if (!action) throw new Error(`no action ${actionId}`);
    return action;
  }

  /** The next `count` requests (whose path and query match `path`, if given) get `status`, no body. */
  failNext(count: number, status: number, opts: { path?: RegExp; retryAfterS?: number } = {}): void {
    this.#faults.push({ count, status, path: opts.path, retryAfterS: opts.retryAfterS });
  }

  /** The next artifact body (200/206) stops after `bytes` bytes and its connection is destroyed. */
  dropDownloadAfter(bytes: number): void {
    this.#dropAfterBytes = bytes;
  }

  /** Polls `predicate` every 10 ms; rejects naming `what` after `timeoutMs`. */
  async waitFor(predicate: () => boolean, timeoutMs = 2000, what = 'the condition'): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!predicate()) {
      if (performance.now() > deadline) throw new Error(`DDI server: no ${what} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Stops listening and drops every connection, keeping all state for `restart()`. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Listens (again), on the port it had before. */
  async restart(): Promise<void> {
    await this.stop();
    const server = createServer((req, res) => {
      this.#handle(req, res).catch(() => res.headersSent || res.writeHead(400).end());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  close(): Promise<void> {
    return this.stop();
  }

  #target(controllerId: string): TargetRecord {
    const target = this.targets.get(controllerId);
    if (!target) throw new Error(`no target ${controllerId}`);
    return target;
  }

  #authorized(tenant: string, controllerId: string, header: string | undefined): boolean {
    if (tenant !== this.tenant || header === undefined) return false;
    const gateway = this.#gatewayToken;
    if (header.startsWith('GatewayToken ')) return !!gateway && header.slice(13) === gateway;
    const token = this.targets.get(controllerId)?.token;
    return header.startsWith('TargetToken ') && !!token && header.slice(12) === token;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const headers: Record<string, string> = {};
    for (const h of INTERESTING) if (typeof req.headers[h] === 'string') headers[h] = req.headers[h];
    const record: RequestRecord = {
      method,
      path: url.pathname + url.search,
      headers,
      atMs: Date.now(),
      status: 0,
    };
    this.requests.push(record);
    res.on('finish', () => {
      record.status = res.statusCode;
    });
    const empty = (status: number) => void res.writeHead(status).end();
    const fault = this.#faults.find((f) => !f.path || f.path.test(record.path));
    if (fault) {
      if (--fault.count <= 0) this.#faults.splice(this.#faults.indexOf(fault), 1);
      const retry = fault.retryAfterS === undefined ? {} : { 'retry-after': String(fault.retryAfterS) };
      return void res.writeHead(fault.status, retry).end();
    }
    const [tenant, controller, v1, controllerId, ...rest] = url.pathname
      .split('/')
      .slice(1)
      .map(decodeURIComponent);
    if (controller !== 'controller' || v1 !== 'v1' || !tenant || !controllerId) return empty(404);
    if (!this.#authorized(tenant, controllerId, req.headers.authorization)) return empty(401);
    const [first, id, ...more] = rest;
    const shape = [first, id && ':id', more[0], more[1] && ':file', ...more.slice(2)].filter(
      (s) => s !== undefined,
    );
    const found = ROUTES[shape.join('/')];
    if (!found) return empty(404);
    const [allowed, route] = found;
    if (method !== allowed) return empty(405);
    let body: unknown;
    if (method !== 'GET') {
      const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/json') return empty(415);
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        record.reason = 'body is not JSON';
        return this.#json(req, res, 400, NOT_READABLE);
      }
    }
    // Spring validates the body before the controller looks anything up: 400 comes before 404.
    const feedback = route.endsWith('Feedback') ? checkActionFeedback(body) : undefined;
    const config = route === 'configData' ? checkConfigData(body) : undefined;
    for (const checked of [feedback, config]) {
      if (checked?.ok !== false) continue;
      record.reason = checked.reason;
      return this.#json(req, res, 400, 'invalidAttributes' in checked ? INVALID_ATTRIBUTES : NOT_READABLE);
    }
    const target = this.targets.get(controllerId);
    if (route === 'base')
      return this.#json(req, res, 200, this.#base(req, target ?? this.addTarget(controllerId)));
    if (!target) return this.#json(req, res, 404, notFound('Target', controllerId));
    if (config?.ok) {
      applyConfigData(target, config.value);
      return empty(200);
    }
    if (route === 'artifacts' || route === 'artifact') {
      const module = this.#modules.get(Number(id));
      if (!module) return this.#json(req, res, 404, notFound('SoftwareModule', id));
      if (route === 'artifacts') return this.#json(req, res, 200, this.#artifacts(req, controllerId, module));
      const file = more[1] ?? '';
      const md5sum = file.endsWith('.MD5SUM');
      const artifact = module.artifacts.find((a) => a.filename === (md5sum ? file.slice(0, -7) : file));
      // hawkBit checks the module is assigned to the target, except for Range requests.
      const mine = [...this.actions.values()].some(
        (a) => a.controllerId === controllerId && a.modules.includes(module),
      );
      if (!artifact || (!mine && (md5sum || req.headers.range === undefined))) return empty(404);
      const dropAfterBytes = md5sum ? undefined : this.#dropAfterBytes;
      const sent = writeArtifact(req, res, artifact, { md5sum, dropAfterBytes });
      this.downloads.push(sent);
      // Only a response with artifact bytes uses up the drop (not a 412 or 416).
      if (sent.status < 300 && !md5sum) this.#dropAfterBytes = undefined;
      return;
    }
    const action = this.actions.get(Number(id));
    if (!action || action.controllerId !== controllerId)
      return this.#json(req, res, 404, notFound('Action', id));
    const history = Number(url.searchParams.get('actionHistory') ?? '0') || 0;
    const artifacts = (m: SoftwareModule) => this.#artifacts(req, controllerId, m);
    if (route === 'deploymentBase') {
      if (action.state === 'canceling' || action.state === 'canceled') return empty(404);
      if (action.state === 'open')
        action.messages.push(
          `${UPDATE_SERVER}Target retrieved update action and should start now the download.`,
        );
      return this.#json(req, res, 200, deploymentBase(action, history, artifacts));
    }
    if (route === 'installedBase') {
      if (action.state !== 'closed') return empty(404);
      return this.#json(req, res, 200, deploymentBase(action, history, artifacts));
    }
    if (route === 'cancelAction') {
      if (action.state !== 'canceling' && action.state !== 'canceled') return empty(404);
      action.messages.push(
        `${UPDATE_SERVER}Target retrieved cancel action and should start now the cancellation.`,
      );
      return this.#json(req, res, 200, {
        id: String(action.id),
        cancelAction: { stopId: String(action.id) },
      });
    }
    if (!feedback?.ok) return empty(500);
    if (route === 'cancelFeedback') {
      if (applyCancelFeedback(action, feedback.value) === 405)
        return this.#json(req, res, 405, NOT_CANCELABLE);
      return empty(200);
    }
    const status = applyDeploymentFeedback(action, feedback.value);
    // "after a successful update action" hawkBit asks for the attributes again.
    if (status === 200 && action.result === 'success') target.requestAttributes = true;
    return empty(status);
  }

  #base(req: IncomingMessage, target: TargetRecord) {
    const mine = [...this.actions.values()].filter((a) => a.controllerId === target.controllerId);
    const active = mine.find((a) => a.state === 'open' || a.state === 'canceling');
    const installed = mine.filter((a) => a.result === 'success').at(-1);
    const link = (path: string) => ({ href: `${this.#origin(req, target.controllerId)}/${path}` });
    return {
      config: { polling: { sleep: this.#pollingSleep } },
      _links: {
        ...(active?.state === 'open' && {
          deploymentBase: link(`deploymentBase/${active.id}?c=${actionEtag(active)}`),
        }),
        ...(active?.state === 'canceling' && { cancelAction: link(`cancelAction/${active.id}`) }),
        ...(installed && { installedBase: link(`installedBase/${installed.id}`) }),
        ...(target.requestAttributes && { configData: link('configData') }),
      },
    };
  }

  #artifacts(req: IncomingMessage, controllerId: string, module: SoftwareModule): DdiArtifact[] {
    return module.artifacts.map((a) => {
      const file = encodeURIComponent(a.filename);
      const href = `${this.#origin(req, controllerId)}/softwaremodules/${module.id}/artifacts/${file}`;
      const md5 = { href: `${href}.MD5SUM` };
      const _links = { download: { href }, 'download-http': { href }, md5sum: md5, 'md5sum-http': md5 };
      return { filename: a.filename, hashes: a.hashes, size: a.data.length, _links };
    });
  }

  /** Links are built from the request's Host, as Spring HATEOAS builds hawkBit's. */
  #origin(req: IncomingMessage, controllerId: string): string {
    const host = req.headers.host ?? `127.0.0.1:${this.#port}`;
    return `http://${host}/${this.tenant}/controller/v1/${encodeURIComponent(controllerId)}`;
  }

  /** JSON as Spring answers it: HAL unless JSON was asked for; a shallow ETag; 304 on If-None-Match. */
  #json(req: IncomingMessage, res: ServerResponse, status: number, value: unknown): void {
    const text = JSON.stringify(value);
    const type = req.headers.accept?.includes('application/json')
      ? 'application/json'
      : 'application/hal+json';
    const etag = `"0${createHash('md5').update(text).digest('hex')}"`;
    if (status !== 200) return void res.writeHead(status, { 'content-type': type }).end(text);
    if (req.method === 'GET' && req.headers['if-none-match'] === etag)
      return void res.writeHead(304, { etag }).end();
    res.writeHead(200, { 'content-type': type, etag }).end(text);
  }
}
