/** A problem that passed its family's schema, and the one place raw JSON becomes one. */
import { z } from 'zod';
import { InputError, inputErrorFromZod } from '../errors.ts';
import { getFormulation, listKinds } from '../formulations/registry.ts';
import type { Formulation, InputWarning } from '../formulations/types.ts';
import type { Sense } from '../milp/model.ts';

/** A problem that passed its family's schema. Keeps the raw JSON for `sweep`. */
export class ParsedProblem<P = unknown, D = unknown> {
  constructor(
    readonly formulation: Formulation<P, D>,
    readonly problem: P,
    /** The JSON value it was parsed from (not copied; treat as read-only). */
    readonly raw: unknown,
  ) {}

  get kind(): string {
    return this.formulation.kind;
  }

  get objectiveLabel(): string {
    return this.formulation.objectiveLabel?.(this.problem) ?? 'objective';
  }

  /** The problem's own sense when the family lets the problem choose it (raw MILP, hit ratio vs latency). */
  get sense(): Sense {
    return this.formulation.senseOf?.(this.problem) ?? this.formulation.sense;
  }

  /** The family's plausibility remarks (values off by orders of magnitude); never throws. */
  get warnings(): readonly InputWarning[] {
    try {
      return this.formulation.warnings?.(this.problem) ?? [];
    } catch (error) {
      return [{ path: '$', message: `plausibility check failed: ${errorText(error)}` }];
    }
  }
}

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s*\n\s*/g, ' ');
}

/** Reads `kind` and applies that family's schema; InputError (JSON path + rule) on bad input. */
export function parseProblem(raw: unknown): ParsedProblem {
  const kinds = listKinds().join(', ');
  if (!isRecord(raw))
    throw new InputError('$', `a problem must be a JSON object with a "kind" field (known kinds: ${kinds})`);
  if (!('kind' in raw) || raw.kind === undefined)
    throw new InputError('$.kind', `required field is missing (one of: ${kinds})`);
  if (typeof raw.kind !== 'string') throw new InputError('$.kind', `must be a string (one of: ${kinds})`);
  return parseWith(getFormulation(raw.kind), raw);
}

/** Parses `raw` with a given family (also one not in the registry, e.g. your own). */
export function parseWith<P, D>(formulation: Formulation<P, D>, raw: unknown): ParsedProblem<P, D> {
  try {
    return new ParsedProblem(formulation, formulation.parse(raw), raw);
  } catch (error) {
    // A family should throw InputError itself; a stray ZodError still gets a path and a rule.
    if (error instanceof z.ZodError) throw inputErrorFromZod(error);
    throw error;
  }
}

export function toParsed(problem: unknown): ParsedProblem {
  return problem instanceof ParsedProblem ? problem : parseProblem(problem);
}
