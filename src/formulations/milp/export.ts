import type { Model } from '../../milp/model.ts';

/**
 * A solver-independent Model written as a `milp` problem document (bounds only where they differ
 * from the defaults), so that any compiled model can go back through the CLI to any backend.
 */
export function modelToMilpJson(model: Model, description: string): unknown {
  return {
    kind: 'milp',
    description,
    sense: model.sense,
    variables: model.variables.map((v) => ({
      name: v.name,
      type: v.type,
      ...(v.type !== 'binary' && v.lower !== 0 ? { lower: Number.isFinite(v.lower) ? v.lower : null } : {}),
      ...(v.type !== 'binary' && Number.isFinite(v.upper) ? { upper: v.upper } : {}),
    })),
    constraints: model.constraints.map((c) => ({
      name: c.name,
      terms: Object.fromEntries(c.terms.map((t) => [model.variables[t.variable].name, t.coefficient])),
      ...(c.lower === c.upper ? { equals: c.lower } : {
        ...(Number.isFinite(c.lower) ? { lower: c.lower } : {}),
        ...(Number.isFinite(c.upper) ? { upper: c.upper } : {}),
      }),
    })),
    objective: Object.fromEntries(model.objective.map((t) => [model.variables[t.variable].name, t.coefficient])),
    ...(model.objectiveConstant !== 0 ? { objectiveConstant: model.objectiveConstant } : {}),
  };
}
