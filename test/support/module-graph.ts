/**
 * The agent's module graph as its sources declare it, read with the TypeScript parser, for tests
 * that hold import rules. An edge is `static` when the module is loaded as soon as the importer is:
 * every `import … from` / `export … from` that compilation keeps — under `verbatimModuleSyntax` that
 * is all but `import type` / `export type` (even `import { type A }` stays, as `import {}`). An
 * edge is `dynamic` for an `import()` of a string literal, `type` for the erased ones. Only relative
 * specifiers are followed (`./x.js` is `./x.ts`); packages are listed by name.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export type EdgeKind = 'static' | 'dynamic' | 'type';

export interface Edge {
  readonly kind: EdgeKind;
  /** The specifier as written. */
  readonly specifier: string;
  /** Absolute path of the imported source file, for a relative specifier. */
  readonly file: string | undefined;
}

const cache = new Map<string, readonly Edge[]>();

/** The imports of one source file. */
export function importsOf(file: string): readonly Edge[] {
  const cached = cache.get(file);
  if (cached) return cached;
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const edges: Edge[] = [];
  const add = (kind: EdgeKind, node: ts.Expression | undefined) => {
    if (!node || !ts.isStringLiteral(node)) return;
    const specifier = node.text;
    const relative = specifier.startsWith('.');
    const target = relative ? path.resolve(path.dirname(file), specifier.replace(/\.js$/, '.ts')) : undefined;
    edges.push({ kind, specifier, file: target });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      add(node.importClause?.isTypeOnly ? 'type' : 'static', node.moduleSpecifier);
    } else if (ts.isExportDeclaration(node)) {
      add(node.isTypeOnly ? 'type' : 'static', node.moduleSpecifier);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add('dynamic', node.arguments[0]);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add('type', node.argument.literal as ts.StringLiteral);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  cache.set(file, edges);
  return edges;
}

/**
 * Every source file reachable from `entries` through the edges `follow` accepts (the entries
 * included), with for each one the chain of files that reached it first.
 */
export function reachable(
  entries: readonly string[],
  follow: (edge: Edge, from: string) => boolean,
): Map<string, readonly string[]> {
  const chains = new Map<string, readonly string[]>(entries.map((e) => [e, [e]]));
  const queue = [...entries];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const edge of importsOf(file)) {
      if (!edge.file || chains.has(edge.file) || !follow(edge, file)) continue;
      chains.set(edge.file, [...(chains.get(file) ?? []), edge.file]);
      queue.push(edge.file);
    }
  }
  return chains;
}
