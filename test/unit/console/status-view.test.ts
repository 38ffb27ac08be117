/**
 * `status` for people: one line per question; an update component's slots under its own name (the
 * agent's own bundle is called `agent`: it once took the line of the agent's version).
 */
import { describe, expect, it } from 'vitest';
import type { AgentStatus } from '../../../agent/commands/status-command.js';
import { renderResult } from '../../../agent/console/views.js';

const slot = (s: 'A' | 'B', state: string, booted: boolean, version?: string) => ({
  slot: s,
  state,
  version,
  booted,
  primary: booted,
});

describe('the status view', () => {
  it('answers one question per line, the agent bundle’s slots beside its version', () => {
    const status: AgentStatus = {
      version: '0.1.0',
      board: 'rpi4',
      deviceId: 'k3v2cq7x4mpta',
      uptimeS: 95,
      addresses: [{ iface: 'eth0', address: '192.0.2.7' }],
      link: 'up',
      alarms: { active: 1, unacked: 1 },
      devices: { total: 4, faulted: ['pms'] },
      components: [
        { name: 'rootfs', slots: [slot('A', 'good', true, '1.1.0'), slot('B', 'bad', false)] },
        { name: 'agent', slots: [slot('A', 'good', true), slot('B', 'good', false)] },
      ],
      lastUpdate: {
        component: 'rootfs',
        version: '1.2.0',
        outcome: 'rolled-back',
        reason: 'boot-failed',
        slot: 'B',
        wallMs: Date.parse('2026-12-06T02:10:00Z'),
      },
    };
    expect(renderResult('status', status, (t) => t).split('\n')).toEqual([
      'device       k3v2cq7x4mpta on rpi4',
      'version      edge-agent 0.1.0',
      'uptime       1m35s',
      'addresses    192.0.2.7 (eth0)',
      'link         up',
      'alarms       1 active, 1 unacknowledged',
      'devices      4, 1 faulted: pms',
      'rootfs       A good 1.1.0 (booted, primary)   B bad',
      'agent        A good (booted, primary)   B good',
      'last update  rootfs 1.2.0 rolled back: boot-failed (2026-12-06 02:10 UTC)',
    ]);
  });

  it('shows devices with their failures and last error, and explains the points flags', () => {
    const devices = [
      {
        id: 'bme',
        state: 'running',
        faulted: false,
        consecutiveFailures: 0,
        totalFailures: 2,
        opens: 1,
        lastError: undefined,
      },
      {
        id: 'pms',
        state: 'opening',
        faulted: true,
        consecutiveFailures: 5,
        totalFailures: 9,
        opens: 6,
        lastError: 'no frame in 3 s',
      },
    ];
    expect(renderResult('devices', devices, (t) => t).split('\n')).toEqual([
      'device  state    faulted  failures now/total  opens  last error',
      '------  -------  -------  ------------------  -----  ---------------',
      'bme     running  no                      0/2      1',
      'pms     opening  yes                     5/9      6  no frame in 3 s',
    ]);
    const points = [{ name: 'heater.state', value: false, quality: 'good', ageMs: 5, writable: true }];
    expect(renderResult('points', points, (t) => t)).toContain('flags: w = writable');
  });

  it('shows rules with their condition in words, telemetry bytes in MiB and ages as durations', () => {
    const rules = [
      {
        name: 'chamber.overtemp',
        interlock: true,
        active: true,
        when: 'chamber.temp > 70 (hyst 5) for 2 s',
        condition: true,
        pendingForces: [],
      },
      {
        name: 'air.dusty',
        interlock: false,
        active: false,
        when: 'air.pm2_5 > 3.5e-8',
        condition: undefined,
        pendingForces: [],
      },
    ];
    expect(renderResult('rules', rules, (t) => t).split('\n')).toEqual([
      'rule              kind       state   now                    when',
      '----------------  ---------  ------  ---------------------  ----------------------------------',
      'chamber.overtemp  interlock  ACTIVE  true                   chamber.temp > 70 (hyst 5) for 2 s',
      'air.dusty         rule       idle    held (input not good)  air.pm2_5 > 3.5e-8',
    ]);
    const telemetry = renderResult(
      'telemetry',
      { queue: { bytes: 10043, budgetBytes: 67108864, oldestAgeS: 5400 } },
      (t) => t,
    );
    expect(telemetry).toMatch(/oldestAge\s+1h30m/);
    expect(telemetry).toMatch(/bytes\s+9.8 KiB/);
    expect(telemetry).toMatch(/budgetBytes\s+64.0 MiB/);
  });

  it('fits loops in 80 columns: four significant digits, no empty region or autotune column', () => {
    const loop = {
      name: 'chamber',
      mode: 'auto',
      state: 'auto',
      input: 20.96981234,
      setpoint: 45,
      output: 0.306728,
      tunings: 'kp=0.2 ki=0.002 kd=1',
      region: 'warm',
      autotune: { running: false },
    };
    const lines = renderResult('loops', [loop], (t) => t).split('\n');
    expect(lines[0]).toBe('loop     mode  state  input  setpoint  output  tunings               region');
    expect(lines[2]).toBe('chamber  auto  auto   20.97        45  0.3067  kp=0.2 ki=0.002 kd=1  warm');
    expect(renderResult('loops', [{ ...loop, region: undefined }], (t) => t)).not.toContain('region');
  });

  it('shows an install waiting for the maintenance window and how hawkBit is doing under ota status', () => {
    const slot = { state: 'good', kind: 'image', path: '/dev/x' };
    const text = renderResult(
      'ota.status',
      {
        components: [
          { name: 'rootfs', booted: 'A', primary: 'A', slots: { A: slot, B: { ...slot, state: 'bad' } } },
        ],
        install: {
          component: 'rootfs',
          version: '1.2.0',
          phase: 'written',
          target: 'B',
          bytes: 10,
          totalBytes: 10,
          percent: 100,
          waitingToInstall: true,
        },
        hawkbit: {
          server: 'https://h/DEFAULT/controller/v1/gw',
          lastPoll: { ok: true, at: Date.parse('2026-12-06T10:00:01Z') },
          pendingFeedback: 0,
        },
      },
      (t) => t,
    );
    expect(text).toContain(
      "install: rootfs 1.2.0 into slot B: written, waiting for hawkBit's maintenance window",
    );
    expect(text).toContain('hawkbit: last poll 10:00:01 UTC ok, 0 feedback waiting');
  });
});
