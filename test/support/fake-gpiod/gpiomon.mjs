// Fake gpiomon (libgpiod v2.2.1 command line, one line per run), run by the `gpiomon` script with the
// script's argv[0] first. It requests the line in the simulated kernel of common.sh,
// prints the banner of gpiomon.c print_banner, then polls the line's level every millisecond and
// prints each edge in the --format of gpiomon.c event_print_formatted, with a CLOCK_MONOTONIC
// timestamp (process.hrtime is CLOCK_MONOTONIC on Linux). With --debounce-period it debounces as the
// kernel does (gpiolib-cdev.c debounce_irq_handler / debounce_work_func): each raw change restarts the
// period; when it expires the level is read, and if it differs from the last debounced level an edge
// is reported, stamped at that moment. See README.md.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const [prog, ...args] = process.argv.slice(2);
const tool = 'gpiomon';
const state = path.resolve(path.dirname(prog), '..', 'state');
appendFileSync(path.join(state, 'calls.log'), `${tool} ${args.join(' ')}\n`);

function die(message) {
  process.stderr.write(`${prog}: ${message}\n`);
  process.exit(1);
}

function periodUs(text) {
  const m = /^(\d+)(us|ms|s|m)?$/.exec(text);
  if (!m) die(`invalid period: ${text}`);
  const scale = { us: 1, ms: 1000, s: 1_000_000, m: 60_000_000 }[m[2] ?? 'ms'];
  return Number(m[1]) * scale;
}

const cfg = { banner: false, activeLow: false, edges: 'both', format: undefined, debounceUs: 0, bias: '' };
let chip = '';
let line = '';
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  const [name, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s, 2) : [arg, undefined];
  const value = () => inline ?? args[++i];
  switch (name) {
    case '-v':
    case '--version':
      process.stdout.write(
        `${tool} (libgpiod) ${readFileSync(path.join(state, 'version'), 'utf8').trim()}\n` +
          'Copyright (C) 2017-2023 Bartosz Golaszewski\nLicense: GPL-2.0-or-later\n' +
          'This is free software: you are free to change and redistribute it.\n' +
          'There is NO WARRANTY, to the extent permitted by law.\n',
      );
      process.exit(0);
      break;
    case '--banner':
      cfg.banner = true;
      break;
    case '-l':
    case '--active-low':
      cfg.activeLow = true;
      break;
    case '-c':
    case '--chip':
      chip = value();
      break;
    case '-e':
    case '--edges':
      cfg.edges = value();
      if (!['both', 'rising', 'falling'].includes(cfg.edges)) die(`invalid edges: ${cfg.edges}`);
      break;
    case '-F':
    case '--format':
      cfg.format = value();
      break;
    case '-p':
    case '--debounce-period':
      cfg.debounceUs = periodUs(value());
      break;
    case '-b':
    case '--bias':
      cfg.bias = value();
      break;
    case '-C':
    case '--consumer':
      value();
      break;
    case '-E':
    case '--event-clock':
      if (value() !== 'monotonic') die('fake gpiomon: only the monotonic event clock');
      break;
    default:
      if (arg.startsWith('-')) die(`fake gpiomon: unsupported option '${arg}'`);
      if (line) die('fake gpiomon: one line only');
      line = arg;
  }
}
if (!line) die('at least one GPIO line must be specified');
if (!chip) die('fake gpiomon: -c is required');
const chipName = chip.replace(/^\/dev\//, '');
const chipDir = path.join(state, 'chips', chipName);
if (!existsSync(chipDir)) die(`cannot find GPIO chip character device '${chip}'`);
if (!/^\d+$/.test(line)) die(`cannot find line '${line}'`);
if (Number(line) >= Number(readFileSync(path.join(chipDir, 'ngpio'), 'utf8'))) {
  die(`offset ${line} is out of range on chip '${chip}'`);
}
const lineDir = path.join(state, 'lines', chipName, line);
mkdirSync(lineDir, { recursive: true });
const owner = path.join(lineDir, 'owner');

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** As common.sh `request`: an O_EXCL owner file, taken over when its process is gone. */
function request() {
  try {
    writeFileSync(owner, String(process.pid), { flag: 'wx' });
  } catch {
    const pid = Number(readFileSync(owner, 'utf8'));
    if (pid > 0 && alive(pid)) die(`unable to request lines on chip /dev/${chipName}: Device or resource busy`);
    writeFileSync(owner, String(process.pid));
  }
}

function level() {
  try {
    return Number(readFileSync(path.join(lineDir, 'level'), 'utf8').trim()) === 1 ? 1 : 0;
  } catch {
    return cfg.bias === 'pull-up' ? 1 : 0;
  }
}

function print(physical) {
  const logical = cfg.activeLow ? 1 - physical : physical;
  const rising = logical === 1;
  if ((cfg.edges === 'rising' && !rising) || (cfg.edges === 'falling' && rising)) return;
  const ns = process.hrtime.bigint();
  const seconds = `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
  if (cfg.format === undefined) {
    process.stdout.write(`${seconds}\t${rising ? 'rising' : 'falling'}\t${chipName} ${line}\n`);
    return;
  }
  const specifiers = { o: line, l: 'unnamed', c: chipName, e: rising ? '1' : '2', E: rising ? 'rising' : 'falling', S: seconds, '%': '%' };
  const text = cfg.format.replace(/%(.?)/g, (whole, c) => (c === '' ? '%' : (specifiers[c] ?? whole)));
  process.stdout.write(`${text}\n`);
}

request();
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdout.on('error', stop);

let raw = level();
let debounced = raw;
let timer;
if (cfg.banner) process.stdout.write(`Monitoring line '${line}'...\n`);
setInterval(() => {
  const now = level();
  if (now === raw) return;
  raw = now;
  if (cfg.debounceUs === 0) {
    print(now);
    return;
  }
  clearTimeout(timer);
  timer = setTimeout(() => {
    const settled = level();
    if (settled === debounced) return;
    debounced = settled;
    print(settled);
  }, cfg.debounceUs / 1000);
}, 1);
