/**
 * The keys written more than once in one object of a JSON text. JSON.parse silently keeps the last of
 * them, so a test that only parses cannot see the mistake; this walks the text itself. Throws a
 * SyntaxError on text that is not JSON.
 */
export function duplicateKeys(text: string): string[] {
  JSON.parse(text); // validity first: the walk below assumes well-formed JSON
  const duplicates: string[] = [];
  let i = 0;
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i] as string)) i++;
  };
  const string = (): string => {
    const start = i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      const seen = new Set<string>();
      space();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        space();
        const key = string();
        if (seen.has(key)) duplicates.push(key);
        seen.add(key);
        space();
        i++; // ':'
        value();
        space();
        if (text[i++] === '}') return;
      }
    }
    if (c === '[') {
      i++;
      space();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        space();
        if (text[i++] === ']') return;
      }
    }
    if (c === '"') {
      string();
      return;
    }
    const literal = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
    i += literal ? literal[0].length : 1;
  };
  value();
  return duplicates;
}
