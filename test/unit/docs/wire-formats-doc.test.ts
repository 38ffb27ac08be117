/**
 * docs/wire-formats.md against the code's own constant tables, both ways: every name a checked table of
 * the document lists must be in the code's table (with the same number, where it has one), and every
 * entry of the code's table must be in the document — so the page a backend is written from cannot
 * drift from what the device sends and accepts.
 *
 * The convention the document follows, and this test parses:
 *  - a checked table is the first Markdown table after a `### <title>` heading whose title is one of
 *    SECTIONS below, before the next heading; its first line is the header row, its second the
 *    `| --- |` line, every further line one body row;
 *  - in a body row, every `backticked` token of the FIRST cell is a name (the units table lists many
 *    names per row; the others one);
 *  - where the code's table maps names to numbers (SenML labels, COSE headers and algorithms, EAT
 *    claims), the SECOND cell holds the number in backticks;
 *  - the MQTT topics table writes each topic in full, `<prefix>/<id>/<suffix>`: the suffix is the name;
 *  - the EAT claims table is compared by key number only: the document names claims as RFC 9711 does
 *    (`eat_nonce`), the code as JavaScript does (`CLAIM.nonce`).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLAIM } from '../../../agent/attest/eat.js';
import { COSE_ALGORITHMS, COSE_HEADERS } from '../../../agent/core/cose.js';
import { NOT_RECOMMENDED_UNITS, SENML_UNITS } from '../../../agent/core/senml-units.js';
import { COMMAND_RESULT_KEYS, FLEET_COMMAND_KEYS } from '../../../agent/link/fleet-command.js';
import { TOPIC_SUFFIXES } from '../../../agent/link/topics.js';
import { CHANNEL_COMMANDS } from '../../../agent/link/trusted-time.js';
import { MANIFEST_KEYS } from '../../../agent/ota/manifest.js';
import { TRUST_ROOT_KEYS } from '../../../agent/ota/trust.js';
import { SENML_CBOR_LABELS } from '../../../agent/telemetry/senml.js';
import { SENML_EXTENSION_LABELS } from '../../../agent/telemetry/senml-pack.js';

const DOC = 'docs/wire-formats.md';
const TOPIC_PREFIX = '<prefix>/<id>/';

interface Section {
  /** The `###` heading of the table. */
  readonly title: string;
  /** Where the code's table lives, for messages. */
  readonly source: string;
  /**
   * `names`: the document's names against the code's; `numbered`: names and the number beside each;
   * `numbers`: only the numbers of the second column (the names differ by design).
   */
  readonly compare: 'names' | 'numbered' | 'numbers';
  /** The code's entries: name → number (undefined for plain name tables). */
  readonly code: ReadonlyMap<string, number | undefined>;
  /** Turns a backticked token of the first cell into the name compared (default: itself). */
  readonly nameOf?: (token: string) => string | { readonly problem: string };
}

const names = (list: readonly string[]) => new Map(list.map((n) => [n, undefined]));
const numbered = (table: Readonly<Record<string, number>>) => new Map(Object.entries(table));

const SECTIONS: readonly Section[] = [
  {
    title: 'MQTT topics',
    source: 'agent/link/topics.ts TOPIC_SUFFIXES',
    compare: 'names',
    code: names(Object.values(TOPIC_SUFFIXES)),
    nameOf: (token) =>
      token.startsWith(TOPIC_PREFIX)
        ? token.slice(TOPIC_PREFIX.length)
        : { problem: `topic \`${token}\` does not start with \`${TOPIC_PREFIX}\`` },
  },
  {
    title: 'SenML labels',
    source: 'agent/telemetry/senml.ts SENML_CBOR_LABELS',
    compare: 'numbered',
    code: numbered(SENML_CBOR_LABELS),
  },
  {
    title: 'SenML extension labels',
    source: 'agent/telemetry/senml-pack.ts SENML_EXTENSION_LABELS',
    compare: 'names',
    code: names(Object.values(SENML_EXTENSION_LABELS)),
  },
  {
    title: 'SenML units',
    source: 'agent/core/senml-units.ts SENML_UNITS',
    compare: 'names',
    code: names(SENML_UNITS),
  },
  {
    title: 'SenML units never produced',
    source: 'agent/core/senml-units.ts NOT_RECOMMENDED_UNITS',
    compare: 'names',
    code: names(Object.keys(NOT_RECOMMENDED_UNITS)),
  },
  {
    title: 'COSE header labels',
    source: 'agent/core/cose.ts COSE_HEADERS',
    compare: 'numbered',
    code: numbered(COSE_HEADERS),
  },
  {
    title: 'COSE algorithms',
    source: 'agent/core/cose.ts COSE_ALGORITHMS',
    compare: 'numbered',
    code: numbered(COSE_ALGORITHMS),
  },
  {
    title: 'Manifest keys',
    source: 'agent/ota/manifest.ts MANIFEST_KEYS',
    compare: 'names',
    code: names(MANIFEST_KEYS),
  },
  {
    title: 'Trust root keys',
    source: 'agent/ota/trust.ts TRUST_ROOT_KEYS',
    compare: 'names',
    code: names(TRUST_ROOT_KEYS),
  },
  {
    title: 'Fleet command keys',
    source: 'agent/link/fleet-command.ts FLEET_COMMAND_KEYS',
    compare: 'names',
    code: names(FLEET_COMMAND_KEYS),
  },
  {
    title: 'Channel commands',
    source: 'agent/link/trusted-time.ts CHANNEL_COMMANDS',
    compare: 'names',
    code: names(CHANNEL_COMMANDS),
  },
  {
    title: 'Command result keys',
    source: 'agent/link/fleet-command.ts COMMAND_RESULT_KEYS',
    compare: 'names',
    code: names(COMMAND_RESULT_KEYS),
  },
  {
    title: 'EAT claims',
    source: 'agent/attest/eat.ts CLAIM',
    compare: 'numbers',
    code: numbered(CLAIM),
  },
];

interface Row {
  readonly line: number;
  readonly names: readonly string[];
  readonly number: number | undefined;
}

type Parsed = { readonly rows: readonly Row[] } | { readonly problem: string };

/** The body rows of the first table under `### <title>`, or why there are none. */
function tableUnder(markdown: string, title: string): Parsed {
  const lines = markdown.split('\n');
  const at = lines.findIndex((l) => l.trim() === `### ${title}`);
  if (at < 0) return { problem: `${DOC} has no heading "### ${title}"` };
  const rows: Row[] = [];
  let tableLines = 0;
  for (let i = at + 1; i < lines.length; i++) {
    const text = (lines[i] ?? '').trim();
    if (text.startsWith('#')) break;
    if (!text.startsWith('|')) {
      if (tableLines > 0) break; // the first table ended
      continue;
    }
    tableLines++;
    if (tableLines <= 2) continue; // header row and the | --- | line
    const cells = text.replace(/^\|/, '').replace(/\|$/, '').split('|');
    const tokens = (cell: string | undefined) => [...(cell ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
    const numberText = tokens(cells[1])[0];
    rows.push({
      line: i + 1,
      names: tokens(cells[0]),
      number: numberText === undefined ? undefined : Number(numberText),
    });
  }
  if (tableLines === 0) return { problem: `${DOC} § ${title}: no table under the heading` };
  return { rows };
}

/** What the document says for one section: its names (and numbers), and problems reading them. */
function documented(markdown: string, s: Section) {
  const parsed = tableUnder(markdown, s.title);
  const entries = new Map<string, number | undefined>();
  const problems: string[] = [];
  if ('problem' in parsed) return { entries, problems: [parsed.problem], found: false };
  for (const row of parsed.rows) {
    const where = `${DOC}:${row.line} (§ ${s.title})`;
    if (s.compare === 'numbers') {
      if (row.number === undefined || !Number.isInteger(row.number)) {
        problems.push(`${where}: the second column has no number in backticks`);
        continue;
      }
      const key = String(row.number);
      if (entries.has(key)) problems.push(`${where}: key ${key} is listed twice`);
      entries.set(key, row.number);
      continue;
    }
    if (row.names.length === 0) problems.push(`${where}: the first column has no name in backticks`);
    for (const token of row.names) {
      const name = s.nameOf ? s.nameOf(token) : token;
      if (typeof name !== 'string') {
        problems.push(`${where}: ${name.problem}`);
        continue;
      }
      if (entries.has(name)) problems.push(`${where}: \`${name}\` is listed twice`);
      if (s.compare === 'numbered' && (row.number === undefined || !Number.isInteger(row.number))) {
        problems.push(`${where}: \`${name}\` has no number in backticks in the second column`);
      }
      entries.set(name, row.number);
    }
  }
  return { entries, problems, found: true };
}

/** The code's entries keyed as the document keys them (by number for `numbers` sections). */
interface CodeEntry {
  /** How a message names it: the name, or for `numbers` sections `<number> (<code name>)`. */
  readonly label: string;
  readonly number: number | undefined;
}

function codeEntries(s: Section): Map<string, CodeEntry> {
  const out = new Map<string, CodeEntry>();
  for (const [name, number] of s.code) {
    if (s.compare === 'numbers') out.set(String(number), { label: `${number} (${name})`, number });
    else out.set(name, { label: name, number });
  }
  return out;
}

const markdown = readFileSync(new URL(`../../../${DOC}`, import.meta.url), 'utf8');

describe(`${DOC} against the code's constants`, () => {
  describe.each(SECTIONS)('§ $title ($source)', (section) => {
    it('is a table the test can read', () => {
      expect(documented(markdown, section).problems).toEqual([]);
    });

    it('lists nothing the code does not have, with the numbers the code uses', () => {
      const { entries, found } = documented(markdown, section);
      expect(found, `${DOC} has no readable "### ${section.title}" table`).toBe(true);
      const code = codeEntries(section);
      const problems: string[] = [];
      for (const [name, number] of entries) {
        const label = section.compare === 'numbers' ? `key ${name}` : `\`${name}\``;
        const inCode = code.get(name);
        if (!inCode) {
          problems.push(`${DOC} § ${section.title} lists ${label}, which ${section.source} does not have`);
        } else if (section.compare === 'numbered' && inCode.number !== number) {
          problems.push(
            `${DOC} § ${section.title} gives \`${name}\` as ${number}, but ${section.source} has ${inCode.number}`,
          );
        }
      }
      expect(problems).toEqual([]);
    });

    it('lists everything the code has', () => {
      const { entries, found } = documented(markdown, section);
      expect(found, `${DOC} has no readable "### ${section.title}" table`).toBe(true);
      const problems = [...codeEntries(section)]
        .filter(([key]) => !entries.has(key))
        .map(
          ([, { label }]) =>
            `${section.source} has \`${label}\`, which ${DOC} § ${section.title} does not list`,
        );
      expect(problems).toEqual([]);
    });
  });
});
