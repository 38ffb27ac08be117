/**
 * What a console user name may look like — the rule the configuration holds `console.users` to, and
 * the one the login prompt applies before it asks for a password: a name no user can have (too long,
 * control characters, upper case) is refused at once, so it is never hashed, tracked or stored whole.
 */

/** The longest user name, in characters. */
export const MAX_USER_NAME_CHARS = 32;

export const USER_NAME_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;

export function isUserName(text: string): boolean {
  return text.length <= MAX_USER_NAME_CHARS && USER_NAME_PATTERN.test(text);
}
