/**
 * Every host path the agent touches, in one place, all under one root. On a device the root is `/`;
 * tests and development set `EDGE_AGENT_ROOT` to a temp dir and get a whole fake host (sysfs, /etc,
 * /var/lib) without touching the real one. (balena-supervisor's `pathOnRoot`.)
 */
import path from 'node:path';

export interface HostPaths {
  readonly root: string;
  /** Default configuration file. */
  readonly configFile: string;
  /** Default state directory (identity, outbox, OTA journal). */
  readonly stateDir: string;
  readonly sysfs: string;
  /** Device-tree model string, for matching board profiles. */
  readonly deviceTreeModel: string;
  /** procfs: the kernel's lock table (`locks`) names who holds a lock the agent needs. */
  readonly proc: string;
}

export function hostPaths(env: NodeJS.ProcessEnv = process.env): HostPaths {
  const root = path.resolve(env.EDGE_AGENT_ROOT ?? '/');
  const on = (p: string) => path.join(root, p);
  return {
    root,
    configFile: on('/etc/edge-agent/agent.yaml'),
    stateDir: on('/var/lib/edge-agent'),
    sysfs: on('/sys'),
    deviceTreeModel: on('/proc/device-tree/model'),
    proc: on('/proc'),
  };
}
