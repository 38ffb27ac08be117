/**
 * The start-up failure classifier: a table of errors as the steps really throw them (errno errors of
 * fs and net, our LockedError over LevelDB's, getaddrinfo's, plain ones) with the facts the host would
 * give, and the line and fields that come out. Then the seams of explainStartupFailure, and inStep.
 */
import { describe, expect, it } from 'vitest';
import { AgentError, ConfigError, LockedError } from '../../../agent/core/errors.js';
import {
  describeStartupFailure,
  explainStartupFailure,
  formatStartupFailure,
  inStep,
  isNameResolutionError,
  type StartupContext,
  StartupError,
  type StartupFacts,
  startupFailureFields,
} from '../../../agent/core/startup-error.js';

/** An error shaped as Node's fs and net modules make them: `code`, and `path` or `hostname`. */
function errno(code: string, message: string, extra: Record<string, unknown> = {}): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code, ...extra });
}

/** classic-level's refusal to open a database held by another process. */
function levelLocked(dir: string): Error {
  const cause = Object.assign(new Error(`IO error: lock ${dir}/LOCK: Resource temporarily unavailable`), {
    code: 'LEVEL_LOCKED',
  });
  return Object.assign(new Error('Database failed to open', { cause }), { code: 'LEVEL_DATABASE_NOT_OPEN' });
}

const STATE: StartupContext = {
  step: 'state',
  what: 'use the state directory',
  path: '/var/lib/edge-agent',
  setting: 'stateDir',
};
const STORE: StartupContext = {
  step: 'telemetry',
  what: 'open the telemetry store',
  path: '/var/lib/edge-agent/telemetry',
  setting: 'telemetry.dir',
};
const SOCKET: StartupContext = {
  step: 'console',
  what: 'listen on the console socket',
  path: '/run/edge-agent/console.sock',
  setting: 'console.socket.path',
};
const LINK: StartupContext = {
  step: 'link',
  what: 'connect to the MQTT broker',
  address: 'mqtt://broker.example:1883',
  setting: 'link.url',
};
const USER: StartupFacts['user'] = { name: 'edge-agent', uid: 998 };

const cases: {
  name: string;
  error: unknown;
  context: StartupContext;
  facts?: StartupFacts;
  code: string | undefined;
  line: string;
}[] = [
  {
    name: 'a telemetry store another agent holds, its holder found',
    error: new LockedError('/var/lib/edge-agent/telemetry/LOCK', 'open elsewhere', {
      cause: levelLocked('/var/lib/edge-agent/telemetry'),
    }),
    context: STORE,
    facts: { stateDir: '/var/lib/edge-agent', lockHolder: { pid: 1234, command: 'edge-agent' } },
    code: 'ELOCKED',
    line:
      'cannot open the telemetry store /var/lib/edge-agent/telemetry: it is locked by another process ' +
      '(pid 1234, edge-agent) — is another edge-agent running with stateDir /var/lib/edge-agent? Stop it, ' +
      'or give each agent its own stateDir',
  },
  {
    name: 'a locked store whose holder could not be found',
    error: new LockedError('/var/lib/edge-agent/telemetry/LOCK', 'open elsewhere'),
    context: STORE,
    code: 'ELOCKED',
    line:
      'cannot open the telemetry store /var/lib/edge-agent/telemetry: it is locked by another process ' +
      '(which one could not be found) — is another edge-agent running with this state directory? Stop it, ' +
      'or give each agent its own stateDir',
  },
  {
    name: 'a state directory the user may not write',
    error: errno('EACCES', "EACCES: permission denied, access '/var/lib/edge-agent'", {
      path: '/var/lib/edge-agent',
    }),
    context: STATE,
    facts: {
      user: USER,
      pathProbe: { existing: '/var/lib/edge-agent', isDirectory: true, writeError: 'EACCES' },
    },
    code: 'EACCES',
    line:
      'cannot use the state directory /var/lib/edge-agent: permission denied to edge-agent (uid 998) — ' +
      'give edge-agent write access to /var/lib/edge-agent (chown -R edge-agent /var/lib/edge-agent), ' +
      'or change stateDir',
  },
  {
    name: 'a missing state directory under a parent the user may not write (create it, do not chown /var/lib)',
    error: errno('EACCES', "EACCES: permission denied, mkdir '/var/lib/edge-agent'", {
      path: '/var/lib/edge-agent',
    }),
    context: STATE,
    facts: { user: USER, pathProbe: { existing: '/var/lib', isDirectory: true, writeError: 'EACCES' } },
    code: 'EACCES',
    line:
      'cannot use the state directory /var/lib/edge-agent: permission denied to edge-agent (uid 998) — ' +
      'create /var/lib/edge-agent for edge-agent (install -d -o edge-agent /var/lib/edge-agent), or change ' +
      'stateDir',
  },
  {
    name: "a read-only file system, which Node's recursive mkdir reports as ENOENT",
    error: errno('ENOENT', "ENOENT: no such file or directory, mkdir '/mnt/ro/state'", {
      path: '/mnt/ro/state',
    }),
    context: { ...STATE, path: '/mnt/ro/state' },
    facts: { pathProbe: { existing: '/mnt/ro', isDirectory: true, writeError: 'EROFS' } },
    code: 'EROFS',
    line:
      'cannot use the state directory /mnt/ro/state: /mnt/ro is on a read-only file system — remount it ' +
      'read-write, or change stateDir to a writable place',
  },
  {
    name: 'a file where a directory of the path should be',
    error: errno('ENOTDIR', "ENOTDIR: not a directory, mkdir '/data/afile/state'", {
      path: '/data/afile/state',
    }),
    context: { ...STATE, path: '/data/afile/state' },
    facts: { pathProbe: { existing: '/data/afile', isDirectory: false, writeError: undefined } },
    code: 'ENOTDIR',
    line:
      'cannot use the state directory /data/afile/state: /data/afile is not a directory — move ' +
      '/data/afile out of the way, or change stateDir',
  },
  {
    name: 'a state directory that is itself a file',
    error: errno('EEXIST', "EEXIST: file already exists, mkdir '/data/state'", { path: '/data/state' }),
    context: { ...STATE, path: '/data/state' },
    facts: { pathProbe: { existing: '/data/state', isDirectory: false, writeError: undefined } },
    code: 'ENOTDIR',
    line:
      'cannot use the state directory /data/state: /data/state is not a directory — move /data/state ' +
      'out of the way, or change stateDir',
  },
  {
    name: 'a full disk',
    error: errno(
      'ENOSPC',
      "ENOSPC: no space left on device, write '/var/lib/edge-agent/identity/device.key'",
      {
        path: '/var/lib/edge-agent/identity/device.key',
      },
    ),
    context: {
      step: 'identity',
      what: 'load the device identity from',
      path: '/var/lib/edge-agent/identity',
    },
    code: 'ENOSPC',
    line:
      'cannot load the device identity from /var/lib/edge-agent/identity: no space left on the device — ' +
      'free space on the file system of /var/lib/edge-agent/identity/device.key',
  },
  {
    name: 'a console socket another process listens on',
    error: errno('EADDRINUSE', 'listen EADDRINUSE: address already in use /run/edge-agent/console.sock', {
      syscall: 'listen',
      address: '/run/edge-agent/console.sock',
    }),
    context: SOCKET,
    code: 'EADDRINUSE',
    line:
      'cannot listen on the console socket /run/edge-agent/console.sock: another process is listening on it ' +
      '— is another edge-agent running? Stop it, or change console.socket.path',
  },
  {
    name: 'a TCP port in use',
    error: errno('EADDRINUSE', 'listen EADDRINUSE: address already in use 0.0.0.0:8080'),
    context: { step: 'metrics', what: 'listen', address: '0.0.0.0:8080' },
    code: 'EADDRINUSE',
    line: 'cannot listen at 0.0.0.0:8080: the address is in use — another process listens there; stop it',
  },
  {
    name: 'a broker host name that does not resolve',
    error: errno('ENOTFOUND', 'getaddrinfo ENOTFOUND broker.example', {
      syscall: 'getaddrinfo',
      hostname: 'broker.example',
    }),
    context: LINK,
    code: 'ENOTFOUND',
    line:
      'cannot connect to the MQTT broker at mqtt://broker.example:1883: the host name broker.example does ' +
      'not resolve — check the host name in link.url and the DNS settings (/etc/resolv.conf)',
  },
  {
    name: 'a name server that does not answer',
    error: errno('EAI_AGAIN', 'getaddrinfo EAI_AGAIN broker.example', { hostname: 'broker.example' }),
    context: LINK,
    code: 'EAI_AGAIN',
    line:
      'cannot connect to the MQTT broker at mqtt://broker.example:1883: no answer from the name server for ' +
      'broker.example (temporary failure) — is the network up and a DNS server reachable?',
  },
  {
    name: 'an error of ours with a code the classifier has no words for',
    error: new AgentError('ETPM', 'tpm2_createprimary failed: no TPM at /dev/tpmrm0'),
    context: {
      step: 'identity',
      what: 'load the device identity from',
      path: '/var/lib/edge-agent/identity',
    },
    code: 'ETPM',
    line:
      'cannot load the device identity from /var/lib/edge-agent/identity: tpm2_createprimary failed: no TPM ' +
      'at /dev/tpmrm0 (ETPM)',
  },
  {
    name: 'something without a code at all',
    error: new Error('sim world refused to start'),
    context: { step: 'devices', what: 'start the devices and local control' },
    code: undefined,
    line: 'cannot start the devices and local control: sim world refused to start',
  },
  {
    name: 'a string thrown',
    error: 'boom',
    context: { step: 'build', what: 'build the agent' },
    code: undefined,
    line: 'cannot build the agent: boom',
  },
];

describe('describeStartupFailure', () => {
  it.each(cases)('explains $name', ({ error, context, facts, code, line }) => {
    const failure = describeStartupFailure(error, context, facts);
    expect(failure.code).toBe(code);
    expect(formatStartupFailure(failure)).toBe(line);
    expect(formatStartupFailure(failure)).not.toContain('\n');
  });

  it('takes the step from the innermost StartupError rather than the fallback', () => {
    const inner = new StartupError(STORE, { cause: new LockedError('/x/LOCK', 'held') });
    const outer = new StartupError({ step: 'start', what: 'start the agent' }, { cause: inner });
    const failure = describeStartupFailure(outer, { step: 'fallback', what: 'do something' });
    expect(failure).toMatchObject({ step: 'telemetry', path: STORE.path, code: 'ELOCKED' });
    // The wrappers' own messages are not repeated in `err`.
    expect(failure.err).toBe('held');
  });

  it('names the path of the errno error when the step gave none', () => {
    const failure = describeStartupFailure(
      errno('ENOENT', "ENOENT: no such file or directory, open '/etc/edge-agent/ca.pem'", {
        path: '/etc/edge-agent/ca.pem',
      }),
      { step: 'ota', what: 'resume updates' },
    );
    expect(failure.path).toBe('/etc/edge-agent/ca.pem');
    expect(failure.code).toBe('ENOENT');
  });

  it('gives log fields without a stack, and with each cause and the stacks at debug', () => {
    const error = new LockedError('/s/telemetry/LOCK', '/s/telemetry: open elsewhere', {
      cause: levelLocked('/s/telemetry'),
    });
    const failure = describeStartupFailure(error, STORE, { lockHolder: { pid: 7, command: 'node' } });
    const fields = startupFailureFields(failure);
    expect(fields).toEqual({
      step: 'telemetry',
      what: 'open the telemetry store',
      path: STORE.path,
      code: 'ELOCKED',
      reason: 'it is locked by another process (pid 7, node)',
      hint: 'is another edge-agent running with this state directory? Stop it, or give each agent its own stateDir',
      err:
        '/s/telemetry: open elsewhere: Database failed to open: IO error: lock /s/telemetry/LOCK: Resource ' +
        'temporarily unavailable',
    });
    const debug = startupFailureFields(failure, { debug: true });
    expect(debug.causes).toEqual([
      { name: 'LockedError', code: 'ELOCKED', message: '/s/telemetry: open elsewhere' },
      { name: 'Error', code: 'LEVEL_DATABASE_NOT_OPEN', message: 'Database failed to open' },
      {
        name: 'Error',
        code: 'LEVEL_LOCKED',
        message: 'IO error: lock /s/telemetry/LOCK: Resource temporarily unavailable',
      },
    ]);
    expect(debug.stack).toMatch(/^LockedError: .*\n\s+at /);
    expect(debug.stack).toContain('caused by: Error: IO error: lock');
  });
});

describe('isNameResolutionError', () => {
  it('is true for ENOTFOUND and EAI_AGAIN anywhere in the causes, false for a refused connection', () => {
    expect(isNameResolutionError(errno('ENOTFOUND', 'getaddrinfo ENOTFOUND x'))).toBe(true);
    expect(isNameResolutionError(new Error('wrapped', { cause: errno('EAI_AGAIN', 'x') }))).toBe(true);
    expect(isNameResolutionError(errno('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1883'))).toBe(false);
    expect(isNameResolutionError(undefined)).toBe(false);
  });
});

describe('explainStartupFailure', () => {
  it('looks up the lock holder, the path and the user through its seams', async () => {
    const asked: string[] = [];
    const failure = await explainStartupFailure(
      new StartupError(STORE, { cause: new LockedError('/s/telemetry/LOCK', 'held') }),
      { step: 'start', what: 'start the agent' },
      {
        stateDir: '/s',
        procDir: '/fake/proc',
        findLockHolder: async (file, procDir) => {
          asked.push(`${file} in ${procDir}`);
          return { held: true, holder: { pid: 42, command: 'edge-agent' } };
        },
        probePath: async () => {
          throw new Error('not asked for a lock');
        },
        user: () => USER,
      },
    );
    expect(asked).toEqual(['/s/telemetry/LOCK in /fake/proc']);
    expect(failure.reason).toBe('it is locked by another process (pid 42, edge-agent)');
    expect(failure.hint).toContain('stateDir /s?');
  });

  it('probes the path of a file-system error and names the user', async () => {
    const failure = await explainStartupFailure(
      errno('ENOENT', "ENOENT: no such file or directory, mkdir '/ro/state'", { path: '/ro/state' }),
      { ...STATE, path: '/ro/state' },
      {
        probePath: async (p) => {
          expect(p).toBe('/ro/state');
          return { existing: '/ro', isDirectory: true, writeError: 'EROFS' };
        },
        user: () => USER,
      },
    );
    expect(failure.code).toBe('EROFS');
  });

  it('keeps the holder a LockedError already carries', async () => {
    const failure = await explainStartupFailure(
      new LockedError('/s/LOCK', 'held', { holder: { pid: 9, command: undefined } }),
      STORE,
      {
        findLockHolder: async () => {
          throw new Error('not to be asked again');
        },
      },
    );
    expect(failure.reason).toBe('it is locked by another process (pid 9)');
  });
});

describe('inStep', () => {
  it('wraps what a step throws with its context, and lets config errors and inner steps through', async () => {
    const wrapped = await inStep(STORE, async () => {
      throw errno('EIO', 'EIO: i/o error');
    }).catch((e: unknown) => e);
    expect(wrapped).toBeInstanceOf(StartupError);
    expect((wrapped as StartupError).context).toBe(STORE);
    expect((wrapped as StartupError).cause).toMatchObject({ code: 'EIO' });

    const config = new ConfigError('/etc/a.yaml', [{ path: 'x', message: 'bad' }]);
    await expect(inStep(STORE, () => Promise.reject(config))).rejects.toBe(config);
    const inner = new StartupError(SOCKET, { cause: new Error('x') });
    await expect(inStep(STORE, () => Promise.reject(inner))).rejects.toBe(inner);
    await expect(inStep(STORE, () => 5)).resolves.toBe(5);
  });
});
