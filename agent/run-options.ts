/** What `edge-agent run` was asked to load. */
export interface RunOptions {
  /** `--config`; else `$EDGE_AGENT_CONFIG`; else /etc/edge-agent/agent.yaml. */
  readonly configFile?: string | undefined;
  /** `--board`; else the configuration's `board`; else detected. */
  readonly boardFile?: string | undefined;
}
