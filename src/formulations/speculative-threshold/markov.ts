/**
 * The channel's Markov chain: its closed communicating classes and its stationary distribution.
 * A finite chain has a unique stationary distribution exactly when it has one closed class
 * (its recurrent states); periodicity does not matter for the long-run round averages we need.
 */
import { Matrix, solve } from 'ml-matrix';

export type StationaryResult =
  | { readonly ok: true; readonly distribution: number[]; readonly closedClasses: number[][] }
  | { readonly ok: false; readonly closedClasses: number[][] };

/** Strongly connected components of the graph i → j for P[i][j] > 0 (Tarjan), each sorted. */
export function communicatingClasses(p: readonly (readonly number[])[]): number[][] {
  const n = p.length;
  const index = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const onStack = new Array<boolean>(n).fill(false);
  const stack: number[] = [];
  const classes: number[][] = [];
  let counter = 0;
  const visit = (v: number): void => {
    index[v] = low[v] = counter++;
    stack.push(v);
    onStack[v] = true;
    for (let w = 0; w < n; w++) {
      if (!(p[v][w] > 0)) continue;
      if (index[w] === -1) {
        visit(w);
        low[v] = Math.min(low[v], low[w]);
      } else if (onStack[w]) low[v] = Math.min(low[v], index[w]);
    }
    if (low[v] === index[v]) {
      const cls: number[] = [];
      let w: number;
      do {
        w = stack.pop() as number;
        onStack[w] = false;
        cls.push(w);
      } while (w !== v);
      classes.push(cls.sort((a, b) => a - b));
    }
  };
  for (let v = 0; v < n; v++) if (index[v] === -1) visit(v);
  return classes.sort((a, b) => a[0] - b[0]);
}

/** Classes no transition leaves: the recurrent classes of a finite chain. */
export function closedClasses(p: readonly (readonly number[])[]): number[][] {
  return communicatingClasses(p).filter((cls) => {
    const inside = new Set(cls);
    return cls.every((i) => p[i].every((v, j) => !(v > 0) || inside.has(j)));
  });
}

/**
 * Stationary distribution π of a row-stochastic P: solves (Pᵀ − I)π = 0 together with Σπ = 1.
 * The system is (n+1) × n; ml-matrix solves it by QR least squares, which is exact here because
 * the system is consistent whenever the chain has one closed class (checked first, combinatorially,
 * so that no floating-point rank test decides uniqueness).
 */
export function stationaryDistribution(p: readonly (readonly number[])[]): StationaryResult {
  const n = p.length;
  const closed = closedClasses(p);
  if (closed.length !== 1) return { ok: false, closedClasses: closed };
  const a = new Matrix(n + 1, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a.set(i, j, p[j][i] - (i === j ? 1 : 0));
  for (let j = 0; j < n; j++) a.set(n, j, 1);
  const b = Matrix.columnVector([...new Array<number>(n).fill(0), 1]);
  const x = solve(a, b).getColumn(0);
  // Transient states have probability exactly 0; round-off may leave ±1e-17 there.
  const recurrent = new Set(closed[0]);
  const clipped = x.map((v, i) => (recurrent.has(i) ? Math.max(0, v) : 0));
  const sum = clipped.reduce((s, v) => s + v, 0);
  return { ok: true, distribution: clipped.map((v) => v / sum), closedClasses: closed };
}
