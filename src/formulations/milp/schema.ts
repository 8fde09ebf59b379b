/**
 * Input schema of the `milp` kind: a raw mixed-integer linear program written in JSON, so that any
 * model can be sent through the CLI to any backend and compared.
 *
 * JSON cannot hold Infinity, so an unbounded side is written by omitting it or giving null. For
 * variable bounds the usual LP convention holds: an omitted `lower` is 0, `lower: null` is −∞
 * (a free variable), an omitted or null `upper` is +∞.
 */
import { z } from 'zod';
import type { Sense, Term, VariableType } from '../../milp/model.ts';
import { inputErrorFromZod } from '../../errors.ts';

/**
 * Largest magnitude accepted for a coefficient or a finite bound. Solvers work in double precision
 * with absolute tolerances around 1e-6–1e-9 and treat bounds near 1e20 (HiGHS's default
 * infinity, kHighsInf) or 1e30 (GLPK's DBL_MAX-like limits) as infinite; beyond about 1e15 a value
 * no longer has a unit digit to spare (2^53 ≈ 9e15), so larger ones are refused, not silently
 * misread. Unbounded sides are written as null or omitted.
 */
export const MAX_MILP_MAGNITUDE = 1e15;
const beyond =
  `must be within ±${MAX_MILP_MAGNITUDE}: beyond what double-precision solvers can use (leave an unbounded side out)`;
const coefficientBeyond = `must be within ±${MAX_MILP_MAGNITUDE}: beyond what double-precision solvers can use`;

// zod 4's z.number() already rejects NaN and ±Infinity, which is what "finite coefficients" needs.
const side = z.number().gte(-MAX_MILP_MAGNITUDE, beyond).lte(MAX_MILP_MAGNITUDE, beyond).nullable().optional();
const coefficient = z.number().gte(-MAX_MILP_MAGNITUDE, coefficientBeyond).lte(MAX_MILP_MAGNITUDE, coefficientBeyond);

/** A record keyed by user names: a null-prototype object, so no name reaches Object.prototype. */
export type NameRecord<V> = Readonly<Record<string, V>>;

/**
 * A JSON object of numbers keyed by user names (variable names), kept key for key. zod's
 * `z.record` copies entries by assignment into `{}`, which silently drops a key named
 * `__proto__` (the assignment sets the prototype instead): a variable `__proto__` then lost its
 * terms in every row and in the objective. Here every own key is validated with its path and
 * copied with defineProperty into a null-prototype object.
 */
export function nameRecord(value: z.ZodNumber): z.ZodType<NameRecord<number>> {
  return z
    .custom<Record<string, unknown>>(
      (raw) => typeof raw === 'object' && raw !== null && !Array.isArray(raw),
      { message: 'expected an object mapping names to numbers' },
    )
    .superRefine((raw, ctx) => {
      for (const [key, entry] of Object.entries(raw)) {
        const checked = value.safeParse(entry, { reportInput: true });
        // The issue goes on as zod raised it (code, expected type, input), one level deeper.
        if (checked.success) continue;
        for (const issue of checked.error.issues) ctx.addIssue({ ...issue, path: [key, ...issue.path] });
      }
    })
    .transform((raw) => {
      const out: Record<string, number> = Object.create(null) as Record<string, number>;
      for (const [key, entry] of Object.entries(raw)) {
        Object.defineProperty(out, key, { value: entry, enumerable: true, writable: false, configurable: false });
      }
      return out;
    });
}

export const variableSchema = z.strictObject({
  name: z.string().min(1).describe('unique variable name'),
  type: z.enum(['continuous', 'integer', 'binary']),
  lower: side.describe('lower bound; omitted means 0, null means unbounded below'),
  upper: side.describe('upper bound; omitted or null means unbounded above (binary: 1)'),
});

export const constraintSchema = z.strictObject({
  name: z.string().min(1).optional().describe('unique row name; defaults to "constraints[i]"'),
  terms: nameRecord(coefficient).describe('coefficient of each variable in the row, by variable name'),
  lower: side.describe('row activity ≥ lower; omitted or null means no lower side'),
  upper: side.describe('row activity ≤ upper; omitted or null means no upper side'),
  equals: side.describe('row activity = equals; excludes lower and upper'),
});

export const milpInputSchema = z
  .strictObject({
    $schema: z.string().optional().describe('optional JSON Schema reference for editors'),
    kind: z.literal('milp'),
    description: z.string().optional().describe('free text, ignored by the solver'),
    sense: z.enum(['min', 'max']),
    variables: z.array(variableSchema).min(1),
    constraints: z.array(constraintSchema),
    objective: nameRecord(coefficient).describe('objective coefficient of each variable, by name; absent means 0'),
    objectiveConstant: coefficient.optional().describe('added to the objective value; default 0'),
  })
  .superRefine((p, ctx) => {
    const at = (path: (string | number)[], message: string): void => {
      ctx.addIssue({ code: 'custom', path, message });
    };
    const declared = new Map<string, number>();
    p.variables.forEach((v, i) => {
      const first = declared.get(v.name);
      if (first !== undefined) {
        at(['variables', i, 'name'], `duplicate variable name "${v.name}" (first declared at $.variables[${first}])`);
      } else declared.set(v.name, i);
      if (v.type === 'binary') {
        const outside = (b: number | null | undefined): b is number => b != null && (b < 0 || b > 1);
        const rule = "a binary variable's bounds must lie within [0, 1], got";
        if (outside(v.lower)) at(['variables', i, 'lower'], `${rule} ${v.lower}`);
        if (outside(v.upper)) at(['variables', i, 'upper'], `${rule} ${v.upper}`);
      }
      const lower = v.lower === undefined ? 0 : v.lower;
      if (lower != null && v.upper != null && lower > v.upper) {
        const hint = v.lower === undefined ? ' (an omitted lower bound is 0; give null for no lower bound)' : '';
        at(['variables', i, 'upper'], `upper bound ${v.upper} is below the lower bound ${lower}${hint}`);
      }
    });
    const rowNames = new Map<string, number>();
    p.constraints.forEach((c, i) => {
      const name = c.name ?? `constraints[${i}]`;
      const first = rowNames.get(name);
      if (first !== undefined) {
        at(['constraints', i, 'name'], `duplicate constraint name "${name}" (first used at $.constraints[${first}])`);
      } else rowNames.set(name, i);
      const keys = Object.keys(c.terms);
      if (keys.length === 0) at(['constraints', i, 'terms'], 'a constraint needs at least one term');
      for (const k of keys) {
        if (!declared.has(k)) at(['constraints', i, 'terms', k], `variable ${k} is not declared in $.variables`);
      }
      if (c.equals != null && (c.lower != null || c.upper != null)) {
        at(['constraints', i, 'equals'], 'give either equals or lower/upper, not both');
      }
      if (c.equals == null && c.lower == null && c.upper == null) {
        at(['constraints', i], 'a constraint needs at least one of lower, upper or equals');
      }
      if (c.lower != null && c.upper != null && c.lower > c.upper) {
        at(['constraints', i, 'upper'], `upper side ${c.upper} is below the lower side ${c.lower}`);
      }
    });
    for (const k of Object.keys(p.objective)) {
      if (!declared.has(k)) at(['objective', k], `variable ${k} is not declared in $.variables`);
    }
  });

export type MilpInput = z.input<typeof milpInputSchema>;

export interface MilpVariable {
  readonly name: string;
  readonly type: VariableType;
  /** −Infinity when unbounded below. */
  readonly lower: number;
  /** +Infinity when unbounded above. */
  readonly upper: number;
}

/** A row `lower ≤ Σ terms ≤ upper`, sides ±Infinity when absent. */
export interface MilpRow {
  readonly name: string;
  /** Terms in the order the JSON object lists them; `variable` indexes `MilpProblem.variables`. */
  readonly terms: readonly Term[];
  readonly lower: number;
  readonly upper: number;
}

/** The parsed problem: names resolved to column indices, absent sides as ±Infinity. */
export interface MilpProblem {
  readonly kind: 'milp';
  readonly sense: Sense;
  readonly variables: readonly MilpVariable[];
  readonly constraints: readonly MilpRow[];
  readonly objective: readonly Term[];
  readonly objectiveConstant: number;
}

/**
 * A decision of the `milp` kind: the value of each variable, by name (a null-prototype record).
 * A variable the decision does not list is 0, as in the solution files most solvers write.
 */
export interface MilpDecision {
  readonly values: NameRecord<number>;
  /**
   * LPs solved to optimality by HiGHS or GLPK: the dual of each row, by name, ∂z/∂(the row's active bound) for min
   * and max alike (docs/formulations/milp.md). Reported only beside a certified optimum and after our own duality
   * check (duals.ts); evaluate reads `values` only.
   */
  readonly duals?: NameRecord<number>;
  /** With `duals`: the reduced cost of each variable, by name, ∂z/∂(its active bound); 0 for a basic one. */
  readonly reducedCosts?: NameRecord<number>;
}

export const milpDecisionSchema: z.ZodType<MilpDecision> = z.strictObject({
  values: nameRecord(z.number()).describe('value of each variable, by name; a variable not listed is 0'),
  duals: nameRecord(z.number()).optional().describe('LP only: dual of each row, by name (checked by duality)'),
  reducedCosts: nameRecord(z.number())
    .optional()
    .describe('LP only: reduced cost of each variable, by name (checked by duality)'),
});

export function parseMilp(raw: unknown): MilpProblem {
  const parsed = milpInputSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw inputErrorFromZod(parsed.error);
  const p = parsed.data;
  const index = new Map<string, number>();
  const variables = p.variables.map((v, i): MilpVariable => {
    index.set(v.name, i);
    // A binary variable lives in [0, 1] whatever an omitted or null side would otherwise mean.
    const lower =
      v.type === 'binary' ? v.lower ?? 0 : v.lower === undefined ? 0 : v.lower === null ? -Infinity : v.lower;
    const upper = v.upper == null ? (v.type === 'binary' ? 1 : Infinity) : v.upper;
    return { name: v.name, type: v.type, lower, upper };
  });
  const termsOf = (record: NameRecord<number>): Term[] =>
    Object.entries(record).map(([name, coefficient]) => ({ variable: index.get(name) as number, coefficient }));
  const constraints = p.constraints.map((c, i): MilpRow => ({
    name: c.name ?? `constraints[${i}]`,
    terms: termsOf(c.terms),
    lower: c.equals != null ? c.equals : c.lower ?? -Infinity,
    upper: c.equals != null ? c.equals : c.upper ?? Infinity,
  }));
  return {
    kind: 'milp',
    sense: p.sense,
    variables,
    constraints,
    objective: termsOf(p.objective),
    objectiveConstant: p.objectiveConstant ?? 0,
  };
}
