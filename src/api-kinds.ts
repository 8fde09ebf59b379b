/**
 * The lightest part of edgeplan's public API: the error types and the kind registry (names, titles, lazy loading).
 * Importing it loads no family, no solver and no zod, so the CLI's entry and `edgeplan kinds` start at about the
 * speed of Node itself (issue 18). src/api-core.ts and src/api.ts re-export all of it.
 */
export { InputError, UsageError } from './errors.ts';
export {
  getFormulation,
  kindTitle,
  listKinds,
  loadFormulation,
  loadFormulations,
  loadKindOf,
} from './formulations/registry.ts';
