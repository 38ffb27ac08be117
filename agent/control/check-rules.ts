/**
 * Checks rules against the running system after the schema has passed: names that must resolve
 * (points, loops), what a rule may do (only interlocks force; nothing forces or alarms in `onClear`),
 * durations that must be positive, and rules that would fight each other. Each problem is a
 * `ConfigIssue` whose path points at the field (`rules.3.actions.0.set.point`) and whose message names
 * the rule, so the loader can add the file and line and the technician knows which rule to open.
 *
 * The fight it looks for is a cycle: rule A writes (sets or forces) a point that rule B reads, and B —
 * directly or through further rules — writes a point A reads. Such rules can trigger each other on
 * every tick, and which one wins depends on evaluation order. Loop actions are not edges: which points
 * a loop writes is the loop's configuration, not the rule's.
 */
import type { ConfigIssue } from '../core/errors.js';
import { forEachLeaf } from './conditions.js';
import type { Action, Rule } from './rule-schema.js';

export interface PointInfo {
  readonly exists: boolean;
  readonly writable: boolean;
}

export interface RuleCheckContext {
  /** What the point table (or the board's declared points) knows about a point. */
  points(name: string): PointInfo;
  /** Names of the configured loops. */
  readonly loops: readonly string[];
  /** Dotted path of the rules list in the document; default `rules`. */
  readonly path?: string;
}

interface Write {
  readonly point: string;
  /** Path of the point field of the writing action. */
  readonly path: string;
}

export function checkRules(rules: readonly Rule[], context: RuleCheckContext): ConfigIssue[] {
  const base = context.path ?? 'rules';
  const issues: ConfigIssue[] = [];
  const firstIndex = new Map<string, number>();
  const reads: Set<string>[] = [];
  const writes: Write[][] = [];

  for (const [i, rule] of rules.entries()) {
    const at = `${base}.${i}`;
    const issue = (path: string, message: string) =>
      issues.push({ path, message: `rule ${JSON.stringify(rule.name)}: ${message}` });
    const positive = (path: string, field: string, value: number | undefined) => {
      if (value !== undefined && !(value > 0)) issue(path, `${field} must be > 0, got ${value}`);
    };

    const first = firstIndex.get(rule.name);
    if (first === undefined) firstIndex.set(rule.name, i);
    else issue(`${at}.name`, `duplicate rule name (first used by ${base}.${first})`);
    positive(`${at}.forMs`, 'forMs', rule.forMs);
    positive(`${at}.clearForMs`, 'clearForMs', rule.clearForMs);

    const ruleReads = new Set<string>();
    forEachLeaf(rule.when, `${at}.when`, (leaf, path) => {
      ruleReads.add(leaf.point);
      if (!context.points(leaf.point).exists)
        issue(`${path}.point`, `unknown point ${JSON.stringify(leaf.point)}`);
      if ('overMs' in leaf) positive(`${path}.overMs`, 'overMs', leaf.overMs);
    });
    reads.push(ruleReads);

    const ruleWrites: Write[] = [];
    let alarms = 0;
    const checkAction = (action: Action, path: string, onClear: boolean) => {
      if ('set' in action || 'force' in action) {
        const kind = 'set' in action ? 'set' : 'force';
        const point = 'set' in action ? action.set.point : action.force.point;
        const pointPath = `${path}.${kind}.point`;
        const info = context.points(point);
        if (!info.exists) issue(pointPath, `unknown point ${JSON.stringify(point)}`);
        else if (!info.writable) issue(pointPath, `point ${JSON.stringify(point)} is not writable`);
        // A write that cannot happen is already reported; as an edge it would only add a second message.
        else ruleWrites.push({ point, path: pointPath });
        if (kind === 'force' && onClear) {
          issue(
            `${path}.force`,
            "force is not allowed in onClear (a rule's forces are released when it clears)",
          );
        } else if (kind === 'force' && !rule.interlock) {
          issue(`${path}.force`, 'only interlock rules may force a point (add interlock: true, or use set)');
        }
      } else if ('loop' in action || 'setpoint' in action) {
        const [name, namePath] =
          'loop' in action
            ? [action.loop.name, `${path}.loop.name`]
            : [action.setpoint.loop, `${path}.setpoint.loop`];
        if (!context.loops.includes(name)) {
          const known =
            context.loops.length > 0 ? `known: ${context.loops.join(', ')}` : 'no loops are configured';
          issue(namePath, `unknown loop ${JSON.stringify(name)} (${known})`);
        }
      } else if (onClear) {
        issue(
          `${path}.alarm`,
          "alarm is not allowed in onClear (the rule's alarm is cleared when it clears)",
        );
      } else if (++alarms > 1) {
        issue(`${path}.alarm`, "a rule raises at most one alarm (its id is the rule's name)");
      }
    };
    for (const [j, a] of rule.actions.entries()) checkAction(a, `${at}.actions.${j}`, false);
    for (const [j, a] of (rule.onClear ?? []).entries()) checkAction(a, `${at}.onClear.${j}`, true);
    writes.push(ruleWrites);
  }

  issues.push(...cycleIssues(rules, reads, writes));
  return issues;
}

/** The first write of rule `from` that rule `to` reads, if any: the label of the edge from → to. */
function edge(writes: readonly Write[][], reads: readonly Set<string>[], from: number, to: number) {
  return writes[from]?.find((w) => reads[to]?.has(w.point));
}

/**
 * One issue per strongly connected component of the graph rule → rules reading what it writes that
 * contains a cycle (more than one rule, or a rule reading its own write). The reported cycle is the
 * shortest one through the component's first rule, so the message is short and stable.
 */
function cycleIssues(
  rules: readonly Rule[],
  reads: readonly Set<string>[],
  writes: readonly Write[][],
): ConfigIssue[] {
  const n = rules.length;
  const next = (i: number) => [...Array(n).keys()].filter((j) => edge(writes, reads, i, j));
  const issues: ConfigIssue[] = [];
  for (const component of stronglyConnected(n, next)) {
    const start = Math.min(...component);
    const members = new Set(component);
    if (members.size === 1 && !edge(writes, reads, start, start)) continue;
    const cycle = shortestCycle(start, (i) => next(i).filter((j) => members.has(j)));
    const steps = cycle.map((from, k) => {
      const to = cycle[(k + 1) % cycle.length] ?? start;
      return { from, write: edge(writes, reads, from, to) };
    });
    const chain = steps.map((s) => `${rules[s.from]?.name} → ${s.write?.point}`).join(' → ');
    issues.push({
      path: steps[0]?.write?.path ?? '',
      message: `rule ${JSON.stringify(rules[start]?.name)} is in a cycle of rules writing each other's inputs: ${chain} → ${rules[start]?.name}`,
    });
  }
  return issues.sort((a, b) => a.path.localeCompare(b.path, 'en', { numeric: true }));
}

/** Tarjan's algorithm; components in no particular order, nodes numbered 0..n−1. */
function stronglyConnected(n: number, next: (i: number) => number[]): number[][] {
  const index = new Array<number | undefined>(n).fill(undefined);
  const low = new Array<number>(n).fill(0);
  const onStack = new Array<boolean>(n).fill(false);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;
  const visit = (v: number): void => {
    index[v] = low[v] = counter++;
    stack.push(v);
    onStack[v] = true;
    for (const w of next(v)) {
      const wi = index[w];
      if (wi === undefined) {
        visit(w);
        low[v] = Math.min(low[v] ?? 0, low[w] ?? 0);
      } else if (onStack[w]) {
        low[v] = Math.min(low[v] ?? 0, wi);
      }
    }
    if (low[v] === index[v]) {
      const component: number[] = [];
      let w: number | undefined;
      do {
        w = stack.pop();
        if (w === undefined) break;
        onStack[w] = false;
        component.push(w);
      } while (w !== v);
      components.push(component);
    }
  };
  for (let v = 0; v < n; v++) if (index[v] === undefined) visit(v);
  return components;
}

/** Nodes of the shortest cycle from `start` back to itself (breadth-first), starting with `start`. */
function shortestCycle(start: number, next: (i: number) => number[]): number[] {
  const parent = new Map<number, number>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head] ?? start;
    for (const w of next(v)) {
      if (w === start) {
        const path = [v];
        for (let u = v; u !== start; ) {
          u = parent.get(u) ?? start;
          path.push(u);
        }
        return path.reverse();
      }
      if (!parent.has(w) && w !== start) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}
