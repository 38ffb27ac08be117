/**
 * Bounds on what one audit entry may hold, so that nothing a peer types — a megabyte "user name", a
 * pasted file as a command — can make one line big enough to rotate the history away. Every text field
 * is cut at its bound with a marker saying how much was left out (`…[+1048544 chars]`); the arguments
 * are bounded by their JSON text and, when too long, kept as that cut text. Control characters need
 * no care here: JSON escapes them, so a line stays one line.
 */
import type { AuditEntry } from './audit-log.js';

/** Bound of the user-name field: no user name is longer than 32 characters. */
export const MAX_AUDIT_WHO_CHARS = 64;
/** Bound of every other text field, and of the arguments' JSON. */
export const MAX_AUDIT_FIELD_CHARS = 1024;

export function truncateText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  return `${text.slice(0, maxChars)}…[+${text.length - maxChars} chars]`;
}

export function boundAuditEntry(entry: AuditEntry): AuditEntry {
  const cut = (text: string | undefined, max = MAX_AUDIT_FIELD_CHARS) =>
    text === undefined ? undefined : truncateText(String(text), max);
  const bounded: AuditEntry = {
    event: entry.event,
    session: cut(entry.session) ?? '',
    who: cut(entry.who, MAX_AUDIT_WHO_CHARS),
    result: cut(entry.result) ?? '',
  };
  return {
    ...bounded,
    ...(entry.what !== undefined && { what: cut(entry.what) }),
    ...(entry.command !== undefined && { command: cut(entry.command) }),
    ...(entry.args !== undefined && { args: boundArgs(entry.args) }),
    ...(entry.code !== undefined && { code: cut(entry.code) }),
    ...(entry.message !== undefined && { message: cut(entry.message) }),
  };
}

function boundArgs(args: unknown): unknown {
  let json: string | undefined;
  try {
    json = JSON.stringify(args);
  } catch {
    return '[unserialisable arguments]';
  }
  if (json === undefined || json.length <= MAX_AUDIT_FIELD_CHARS) return args;
  return truncateText(json, MAX_AUDIT_FIELD_CHARS);
}
