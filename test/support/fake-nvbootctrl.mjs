#!/usr/bin/env node
// A scripted stand-in for NVIDIA's nvbootctrl (L4T r35/r36, rootfs A/B, unified with the bootloader
// slots), for boards that cannot exist here. Same command line, outputs and exit statuses as far as
// they are documented; the UEFI variables and scratch register it would touch are one JSON file, named
// by FAKE_NVBOOTCTRL_STATE, which the OTA emulator (scripts/ota-emulator/jetson-firmware.ts) reads and
// writes as the firmware at every power-on.
//
//   nvbootctrl [-t bootloader|rootfs] get-current-slot | get-number-slots | set-active-boot-slot <0|1>
//              | mark-boot-successful | verify | dump-slots-info
//
// What each output is based on:
// - `dump-slots-info -t rootfs` prints `Current rootfs slot: A`, `Active rootfs slot: A`, `num_slots: 2`
//   and `slot: 0,             retry_count: 3,             status: normal` (13 spaces after each comma)
//   — copied from devices in NVIDIA's developer forum (JetPack 5.1 "Rootfs A/B redundancy fail-over
//   mechanism", r35.4.1 and r36.3 threads), including `retry_count: 0, status: unbootable` after a
//   fail-over. Without `-t rootfs` it prints the bootloader view: `Current version: 36.3.0`,
//   `Capsule update status: 0`, `Current/Active bootloader slot`, `num_slots` and `slot: N, status: …`.
// - `get-current-slot` prints the number alone (forum captures, tier4 ota-client); slot 0 is A.
// - `set-active-boot-slot N` makes N active for both chains (unified A/B, as forum users report for
//   r35+ whichever `-t`), with a full retry count and status normal. Reports say real r36 firmware may
//   keep an `unbootable` status through it; `"stickyUnbootable": true` in the state plays that.
// - `verify` (what nv-l4t-bootloader-config.service runs on r35.2+) and `mark-boot-successful` both
//   restore the current slot's retry count to `retryCountMax`; `"failConfirm": "message"` makes them
//   print `message` on stderr and exit 1 (the exit status a failing nvbootctrl command gives).
// - An unknown command or slot prints a usage line on stderr and exits 1 (assumed, not documented).
// The retry count persists across power cuts here; forum answers say a cold boot restores it on real
// hardware, so the fake is the stricter case.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

const file = process.env.FAKE_NVBOOTCTRL_STATE;
if (!file) fail('FAKE_NVBOOTCTRL_STATE is not set', 2);
const state = JSON.parse(readFileSync(file, 'utf8'));
const NAMES = ['A', 'B'];

const args = process.argv.slice(2);
let target = 'bootloader';
for (let i = args.indexOf('-t'); i >= 0; i = args.indexOf('-t')) {
  target = args[i + 1] ?? '';
  args.splice(i, 2);
}
if (target !== 'bootloader' && target !== 'rootfs') usage(`unknown target ${target}`);
const [command, arg] = args;

switch (command) {
  case 'get-current-slot':
    out(`${state.current}`);
    break;
  case 'get-number-slots':
    out('2');
    break;
  case 'set-active-boot-slot': {
    if (arg !== '0' && arg !== '1') usage(`invalid slot ${arg ?? '(none)'}`);
    const n = Number(arg);
    state.active = n;
    if (!(state.stickyUnbootable && state.slots[n].status === 'unbootable')) {
      state.slots[n] = { retryCount: state.retryCountMax, status: 'normal' };
    }
    save();
    break;
  }
  case 'mark-boot-successful':
  case 'verify':
    if (state.failConfirm) fail(state.failConfirm, 1);
    state.slots[state.current] = { retryCount: state.retryCountMax, status: 'normal' };
    save();
    break;
  case 'dump-slots-info':
    if (target === 'rootfs') {
      out(`Current rootfs slot: ${NAMES[state.current]}`);
      out(`Active rootfs slot: ${NAMES[state.active]}`);
      out('num_slots: 2');
      state.slots.forEach((s, i) => {
        out(`slot: ${i},             retry_count: ${s.retryCount},             status: ${s.status}`);
      });
    } else {
      out(`Current version: ${state.version ?? '36.3.0'}`);
      out('Capsule update status: 0');
      out(`Current bootloader slot: ${NAMES[state.current]}`);
      out(`Active bootloader slot: ${NAMES[state.active]}`);
      out('num_slots: 2');
      state.slots.forEach((s, i) => out(`slot: ${i},             status: ${s.status}`));
    }
    break;
  default:
    usage(`unknown command ${command ?? '(none)'}`);
}

function out(line) {
  process.stdout.write(`${line}\n`);
}

/** Written whole (rename), as a UEFI variable is: a power cut leaves the old state or the new one. */
function save() {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, file);
}

function usage(problem) {
  fail(`${problem}\nUsage: nvbootctrl [-t <target>] <command> [<slot>]`, 1);
}

function fail(message, code) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}
