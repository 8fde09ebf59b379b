/** Request traces in JSON: `[{ "user": "user-3", "model": "llama-2-7b/lora-2" }, …]`. */
import { z } from 'zod';
import { InputError, inputErrorFromZod } from '../../errors.ts';
import type { Request } from './replay.ts';
import type { Problem } from './schema.ts';

export const traceSchema = z.array(z.strictObject({ user: z.string().min(1), model: z.string().min(1) }));

export function parseTrace(problem: Problem, raw: unknown): Request[] {
  const parsed = traceSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw inputErrorFromZod(parsed.error);
  const users = new Map(problem.users.map((u, i) => [u.id, i]));
  const models = new Map(problem.models.map((m, i) => [m.id, i]));
  return parsed.data.map((r, i) => {
    const user = users.get(r.user);
    if (user === undefined) throw new InputError(`$[${i}].user`, `user "${r.user}" is not in the problem`);
    const model = models.get(r.model);
    if (model === undefined) throw new InputError(`$[${i}].model`, `model "${r.model}" is not in the problem`);
    return { user, model };
  });
}
