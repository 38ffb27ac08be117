/**
 * `edge-agent passwd [--user NAME]`: asks for a password twice (no echo on a terminal; the first line
 * of stdin otherwise, for provisioning scripts) and prints the `console.users` entry with its scrypt
 * hash, ready to paste into agent.yaml. The password itself is never printed or stored.
 */
import type { Readable, Writable } from 'node:stream';
import { KeyDecoder } from './keys.js';
import { hashPassword } from './password-hash.js';

export interface PasswdOptions {
  readonly user: string;
  readonly stdin: Readable & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  readonly stdout: Writable;
  readonly stderr: Writable;
}

export async function runPasswd(options: PasswdOptions): Promise<number> {
  const { user, stdin, stdout, stderr } = options;
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) {
    stderr.write(`edge-agent passwd: ${JSON.stringify(user)} is not a valid user name (a-z 0-9 _ -)\n`);
    return 2;
  }
  let password: string | undefined;
  if (stdin.isTTY && stdin.setRawMode) {
    password = await readSecret(`Password for ${user}: `, options);
    const again = password === undefined ? undefined : await readSecret('Again: ', options);
    if (password !== undefined && again !== password) {
      stderr.write('edge-agent passwd: the passwords differ\n');
      return 1;
    }
  } else {
    password = await firstLine(stdin);
  }
  if (!password) {
    stderr.write('edge-agent passwd: no password given\n');
    return 1;
  }
  if (password.length < 8) stderr.write('edge-agent passwd: warning: fewer than 8 characters\n');
  const hash = await hashPassword(password);
  stderr.write('# Add under console.users in the agent configuration:\n');
  stdout.write(`- name: ${user}\n  passwordHash: '${hash}'\n`);
  return 0;
}

/** Reads one line from a terminal in raw mode, echoing nothing; undefined on Ctrl-C or Ctrl-D. */
export function readSecret(
  prompt: string,
  options: Pick<PasswdOptions, 'stdin' | 'stderr'>,
): Promise<string | undefined> {
  const { stdin, stderr } = options;
  stderr.write(prompt);
  stdin.setRawMode?.(true);
  const decoder = new KeyDecoder();
  let text = '';
  return new Promise((resolve) => {
    const done = (value: string | undefined) => {
      stdin.off('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      stderr.write('\n');
      resolve(value);
    };
    const onData = (chunk: Buffer) => {
      for (const key of decoder.decode(chunk)) {
        if (key.name === 'char') text += key.text;
        else if (key.name === 'backspace') text = [...text].slice(0, -1).join('');
        else if (key.name === 'enter') return done(text);
        else if (key.name === 'interrupt' || key.name === 'eof') return done(undefined);
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}

function firstLine(stdin: Readable): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const finish = () => {
      stdin.off('data', onData);
      stdin.pause();
      resolve(text.split(/\r?\n/)[0] ?? '');
    };
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (/\r?\n/.test(text)) finish();
    };
    stdin.on('data', onData);
    stdin.once('end', finish);
    stdin.resume();
  });
}
