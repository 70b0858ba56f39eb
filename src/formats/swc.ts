// SWC neuron tracings: one node per line, `n type x y z radius parent`, parent -1 for the root,
// `#` starts a comment. A tracing is published only when it is one tree: seven numeric columns on
// every line, unique ids, parents that exist, exactly one root and no cycles.

export interface SwcNode {
  id: number;
  type: number;
  x: number;
  y: number;
  z: number;
  radius: number;
  parent: number;
  /** 1-based line in the file. */
  line: number;
}

export interface SwcProblem {
  /** 1-based line, or 0 for a problem of the whole file. */
  line: number;
  message: string;
}

export interface SwcCheck {
  nodes: SwcNode[];
  problems: SwcProblem[];
}

const INTEGER = /^[+-]?\d+$/;
const COLUMNS = ['n', 'type', 'x', 'y', 'z', 'radius', 'parent'] as const;
const INTEGER_COLUMNS = new Set<string>(['n', 'type', 'parent']);

export function checkSwc(text: string): SwcCheck {
  const nodes: SwcNode[] = [];
  const problems: SwcProblem[] = [];
  const byId = new Map<number, SwcNode>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const content = raw.replace(/#.*/, '').trim();
    if (content === '') return;
    const cols = content.split(/\s+/);
    if (cols.length !== 7) {
      problems.push({ line, message: `${cols.length} columns, an SWC node has 7 (n type x y z radius parent)` });
      return;
    }
    const bad = COLUMNS.map((name, c) => ({ name, text: cols[c], integer: INTEGER_COLUMNS.has(name) })).filter((c) =>
      c.integer ? !INTEGER.test(c.text) : !Number.isFinite(Number(c.text)),
    );
    if (bad.length) {
      problems.push({ line, message: bad.map((c) => `${c.name} "${c.text}" is not ${c.integer ? 'an integer' : 'a number'}`).join('; ') });
      return;
    }
    const [id, type, x, y, z, radius, parent] = cols.map(Number);
    if (id < 1) {
      problems.push({ line, message: `node id ${id} is not positive` });
      return;
    }
    if (parent < -1 || parent === 0) {
      problems.push({ line, message: `parent ${parent} is neither -1 (root) nor a node id` });
      return;
    }
    const earlier = byId.get(id);
    if (earlier) {
      problems.push({ line, message: `node ${id} is defined again (first on line ${earlier.line})` });
      return;
    }
    const node = { id, type, x, y, z, radius, parent, line };
    byId.set(id, node);
    nodes.push(node);
  });

  const roots = nodes.filter((n) => n.parent === -1);
  for (const n of nodes) {
    if (n.parent !== -1 && !byId.has(n.parent)) problems.push({ line: n.line, message: `node ${n.id} has parent ${n.parent}, which is not in the file` });
  }
  if (nodes.length === 0) problems.push({ line: 0, message: 'no nodes' });
  else if (roots.length === 0) problems.push({ line: 0, message: 'no root (a node with parent -1)' });
  for (const r of roots.slice(1)) problems.push({ line: r.line, message: `node ${r.id} is a second root (the first is node ${roots[0].id} on line ${roots[0].line})` });
  for (const n of nodesInCycles(nodes, byId)) problems.push({ line: n.line, message: `node ${n.id} is on a cycle of parents that never reaches the root` });
  problems.sort((a, b) => a.line - b.line);
  return { nodes, problems };
}

/** Nodes whose chain of parents loops, reported once per cycle at its first line. */
function nodesInCycles(nodes: SwcNode[], byId: Map<number, SwcNode>): SwcNode[] {
  const state = new Map<number, 'visiting' | 'done'>();
  const out: SwcNode[] = [];
  for (const start of nodes) {
    const path: SwcNode[] = [];
    let n: SwcNode | undefined = start;
    while (n && !state.has(n.id)) {
      state.set(n.id, 'visiting');
      path.push(n);
      n = n.parent === -1 ? undefined : byId.get(n.parent);
    }
    if (n && state.get(n.id) === 'visiting') {
      const cycle = path.slice(path.indexOf(n));
      out.push(cycle.reduce((a, b) => (b.line < a.line ? b : a)));
    }
    for (const p of path) state.set(p.id, 'done');
  }
  return out;
}

export function formatSwcProblems(name: string, problems: SwcProblem[]): string[] {
  return problems.map((p) => (p.line ? `${name}:${p.line}: ${p.message}` : `${name}: ${p.message}`));
}
