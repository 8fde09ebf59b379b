/** JSON Schema of each family's input, from its zod schema. */
import { z } from 'zod';
import { InputError, UsageError } from '../errors.ts';
import { FORMULATIONS, getFormulation, listKinds } from '../formulations/registry.ts';
import type { AnyFormulation } from '../formulations/types.ts';

/** JSON Schema of a kind's input (all kinds as a `oneOf` when no kind is given). */
export function schema(kind?: string): Record<string, unknown> {
  const one = (f: AnyFormulation): Record<string, unknown> => {
    const { $schema: _drop, ...body } = z.toJSONSchema(f.inputSchema, {
      io: 'input',
      unrepresentable: 'any',
    }) as Record<string, unknown>;
    return { title: `edgeplan ${f.kind} problem`, description: f.title, ...body };
  };
  const dialect = 'https://json-schema.org/draft/2020-12/schema';
  if (kind !== undefined) {
    let formulation: AnyFormulation;
    try {
      formulation = getFormulation(kind);
    } catch (error) {
      // Here the kind is a command argument, not a field of a JSON document.
      throw error instanceof InputError ? new UsageError(error.rule) : error;
    }
    return { $schema: dialect, ...one(formulation) };
  }
  return {
    $schema: dialect,
    title: 'edgeplan problem',
    description: 'any edgeplan problem; `kind` selects the family',
    oneOf: listKinds().map((k) => one(FORMULATIONS[k])),
  };
}
