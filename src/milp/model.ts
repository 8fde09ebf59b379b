/**
 * A solver-independent linear model. Columns and rows live in arrays so that their order,
 * and therefore which of several optima a backend returns, is deterministic.
 */

export type VariableType = 'continuous' | 'integer' | 'binary';

export interface Variable {
  readonly name: string;
  readonly type: VariableType;
  /** -Infinity for a free lower side. */
  readonly lower: number;
  /** +Infinity for a free upper side. */
  readonly upper: number;
}

export interface Term {
  /** Column index into `Model.variables`. */
  readonly variable: number;
  readonly coefficient: number;
}

/** A row `lower ≤ Σ terms ≤ upper`; equality when lower === upper, one-sided with ±Infinity. */
export interface Constraint {
  readonly name: string;
  readonly terms: readonly Term[];
  readonly lower: number;
  readonly upper: number;
}

export type Sense = 'min' | 'max';

export interface Model {
  readonly name: string;
  readonly sense: Sense;
  readonly variables: readonly Variable[];
  readonly constraints: readonly Constraint[];
  readonly objective: readonly Term[];
  /** Added to the objective value; backends ignore it, results include it. */
  readonly objectiveConstant: number;
}

export function isInteger(v: Variable): boolean {
  return v.type !== 'continuous';
}

export function hasIntegers(model: Model): boolean {
  return model.variables.some(isInteger);
}

export interface VariableOptions {
  type?: VariableType;
  lower?: number;
  upper?: number;
}

/** Incremental builder; `build()` freezes the arrays in insertion order. */
export class ModelBuilder {
  private readonly variables: Variable[] = [];
  private readonly constraints: Constraint[] = [];
  private readonly objective: Term[] = [];
  private objectiveConstant = 0;
  private readonly names = new Map<string, number>();

  constructor(
    private readonly name: string,
    private readonly sense: Sense,
  ) {}

  addVariable(name: string, options: VariableOptions = {}): number {
    if (this.names.has(name)) throw new Error(`duplicate variable name ${name}`);
    const type = options.type ?? 'continuous';
    const lower = options.lower ?? 0;
    const upper = options.upper ?? (type === 'binary' ? 1 : Infinity);
    const index = this.variables.length;
    this.variables.push({
      name,
      type,
      lower: type === 'binary' ? Math.max(0, lower) : lower,
      upper: type === 'binary' ? Math.min(1, upper) : upper,
    });
    this.names.set(name, index);
    return index;
  }

  binary(name: string): number {
    return this.addVariable(name, { type: 'binary' });
  }

  indexOf(name: string): number | undefined {
    return this.names.get(name);
  }

  get variableCount(): number {
    return this.variables.length;
  }

  addConstraint(name: string, terms: readonly Term[], lower: number, upper: number): number {
    this.constraints.push({ name, terms: mergeTerms(terms), lower, upper });
    return this.constraints.length - 1;
  }

  lessEqual(name: string, terms: readonly Term[], rhs: number): number {
    return this.addConstraint(name, terms, -Infinity, rhs);
  }

  greaterEqual(name: string, terms: readonly Term[], rhs: number): number {
    return this.addConstraint(name, terms, rhs, Infinity);
  }

  equal(name: string, terms: readonly Term[], rhs: number): number {
    return this.addConstraint(name, terms, rhs, rhs);
  }

  addObjective(variable: number, coefficient: number): void {
    this.objective.push({ variable, coefficient });
  }

  addObjectiveConstant(value: number): void {
    this.objectiveConstant += value;
  }

  build(): Model {
    return {
      name: this.name,
      sense: this.sense,
      variables: [...this.variables],
      constraints: [...this.constraints],
      objective: mergeTerms(this.objective),
      objectiveConstant: this.objectiveConstant,
    };
  }
}

export function term(variable: number, coefficient = 1): Term {
  return { variable, coefficient };
}

/** Sums repeated columns and drops zero coefficients, keeping first-seen order. */
export function mergeTerms(terms: readonly Term[]): Term[] {
  const order: number[] = [];
  const sums = new Map<number, number>();
  for (const t of terms) {
    const prev = sums.get(t.variable);
    if (prev === undefined) order.push(t.variable);
    sums.set(t.variable, (prev ?? 0) + t.coefficient);
  }
  return order.filter((v) => sums.get(v) !== 0).map((v) => ({ variable: v, coefficient: sums.get(v) as number }));
}

export function evaluateTerms(terms: readonly Term[], values: ArrayLike<number>): number {
  let s = 0;
  for (const t of terms) s += t.coefficient * values[t.variable];
  return s;
}

export function objectiveValue(model: Model, values: ArrayLike<number>): number {
  return evaluateTerms(model.objective, values) + model.objectiveConstant;
}
