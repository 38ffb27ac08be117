/**
 * The folder rules of docs/architecture.md ("What may import what"), enforced by `npm run lint`.
 * Type-only imports count too (a type from above is still a dependency on it), except for cycles:
 * `no-runtime-cycle` is about modules that load each other.
 */
module.exports = {
  forbidden: [
    {
      name: 'core-is-the-bottom',
      comment: 'agent/core is shared by every layer and imports none of them',
      severity: 'error',
      from: { path: '^agent/core/' },
      to: { path: '^agent/', pathNot: '^agent/core/' },
    },
    {
      name: 'hal-knows-nothing-above-the-bus',
      comment: 'drivers and buses import only hal/ and core/',
      severity: 'error',
      from: { path: '^agent/hal/' },
      to: { path: '^agent/', pathNot: '^agent/(hal|core)/' },
    },
    {
      name: 'control-sees-points-and-the-clock-only',
      comment: 'loops and rules import only control/ and core/',
      severity: 'error',
      from: { path: '^agent/control/' },
      to: { path: '^agent/', pathNot: '^agent/(control|core)/' },
    },
    {
      name: 'inference-sees-points-and-the-clock-only',
      comment: 'models read and write points; alarms come in as an interface, the runtime is loaded by the worker',
      severity: 'error',
      from: { path: '^agent/infer/' },
      to: { path: '^agent/', pathNot: '^agent/(infer|core)/' },
    },
    {
      name: 'updates-and-attestation-are-independent-of-hardware-and-loops',
      severity: 'error',
      from: { path: '^agent/(ota|attest)/' },
      to: { path: '^agent/(hal|control)/' },
    },
    {
      name: 'device-code-never-imports-the-command-line',
      comment: 'agent/cli/ (the program and the fleet/developer tools) is reached only from main.ts',
      severity: 'error',
      from: { path: '^agent/', pathNot: '^agent/(cli/|main\\.ts$)' },
      to: { path: '^agent/cli/' },
    },
    {
      name: 'nothing-imports-the-entry',
      severity: 'error',
      from: {},
      to: { path: '^agent/main\\.ts$' },
    },
    {
      name: 'no-runtime-cycle',
      comment: 'modules that load each other (type-only imports excepted)',
      severity: 'error',
      from: { path: '^agent/' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'agent-never-imports-tests-or-scripts',
      severity: 'error',
      from: { path: '^agent/' },
      to: { path: '^(test|scripts)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|node_modules)/' },
  },
};
