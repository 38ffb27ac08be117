#!/usr/bin/env node
// A scripted stand-in for efibootmgr (rhboot v18) over a fake NVRAM, for tests of the `efi` boot
// backend. The Boot#### / BootOrder / BootNext / BootCurrent / Timeout variables are one JSON file named
// by FAKE_EFIBOOTMGR_STATE, which the OTA emulator (scripts/ota-emulator/uefi-firmware.ts) reads and
// writes as the UEFI boot manager at every power-on.
//
//   efibootmgr [-v] | -n XXXX | -N | -o XXXX,YYYY,…     (long forms --bootnext, --delete-bootnext,
//                                                         --bootorder too)
//
// Based on efibootmgr.c (v18) main(): after any change it prints the listing — `BootNext: %04X` (only
// when set), `BootCurrent: %04X`, `Timeout: %u seconds`, `BootOrder: 0001,0002`, then each entry as
// `Boot%04X%c ` (`*` when LOAD_OPTION_ACTIVE) with its description, a tab and its device path (v18
// prints the path without -v). Errors go to stderr as `efibootmgr: …` with the exit statuses of
// main(): -n of a missing entry is 12 ("Boot entry %X does not exist"), -N with no BootNext is 10
// ("Could not delete BootNext: No such file or directory"), -o naming a missing entry is 8 ("Could not
// set BootOrder"). `"readOnly": true` in the state plays efivarfs mounted read-only: each write fails
// with its exit status and `: Read-only file system`. Options it does not model print a usage line and
// exit 1.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

const file = process.env.FAKE_EFIBOOTMGR_STATE;
if (!file) fail('FAKE_EFIBOOTMGR_STATE is not set', 2);
const nvram = JSON.parse(readFileSync(file, 'utf8'));
const hex4 = (n) => n.toString(16).toUpperCase().padStart(4, '0');
const exists = (num) => nvram.entries.some((e) => e.num === num);
/** efibootmgr reads boot numbers with strtoul(…, 16): `1` and `0001` are the same entry. */
const number = (s) => (/^[0-9A-Fa-f]{1,4}$/.test(s ?? '') ? hex4(Number.parseInt(s, 16)) : undefined);

const args = process.argv.slice(2);
let changed = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '-v' || a === '--verbose') continue;
  if (a === '-n' || a === '--bootnext') {
    const num = number(args[++i]);
    if (!num || !exists(num)) fail(`efibootmgr: Boot entry ${args[i] ?? ''} does not exist`, 12);
    nvram.bootNext = num;
    changed = true;
  } else if (a === '-N' || a === '--delete-bootnext') {
    if (nvram.bootNext == null) fail('efibootmgr: Could not delete BootNext: No such file or directory', 10);
    nvram.bootNext = null;
    changed = true;
  } else if (a === '-o' || a === '--bootorder') {
    const nums = (args[++i] ?? '').split(',').map(number);
    if (nums.some((n) => !n || !exists(n))) {
      fail(`efibootmgr: Invalid BootOrder order entry value ${args[i]}\nefibootmgr: Could not set BootOrder: Invalid argument`, 8);
    }
    nvram.bootOrder = nums;
    changed = true;
  } else {
    fail(`efibootmgr: unsupported option ${a}\nusage: efibootmgr [-v] [-n XXXX] [-N] [-o XXXX,YYYY,...]`, 1);
  }
}
if (changed && nvram.readOnly) {
  const [what, code] = args.includes('-o') || args.includes('--bootorder')
    ? ['set BootOrder', 8]
    : args.includes('-N') || args.includes('--delete-bootnext')
      ? ['delete BootNext', 10]
      : ['set BootNext', 13];
  fail(`efibootmgr: Could not ${what}: Read-only file system`, code);
}
if (changed) save();

if (nvram.bootNext != null) out(`BootNext: ${nvram.bootNext}`);
if (nvram.bootCurrent != null) out(`BootCurrent: ${nvram.bootCurrent}`);
out(`Timeout: ${nvram.timeoutS ?? 1} seconds`);
if (nvram.bootOrder.length > 0) out(`BootOrder: ${nvram.bootOrder.join(',')}`);
for (const e of [...nvram.entries].sort((x, y) => x.num.localeCompare(y.num))) {
  out(`Boot${e.num}${e.active ? '*' : ' '} ${e.label}\t${e.path}`);
}

function out(line) {
  process.stdout.write(`${line}\n`);
}

/** Written whole (rename), as the firmware's variable store writes one variable. */
function save() {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(nvram, null, 2)}\n`);
  renameSync(tmp, file);
}

function fail(message, code) {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}
