/**
 * Writes the generalized-assignment examples of problems/milp/ from the seeded generator in
 * src/milp/generators.ts. Run once with `npx tsx problems/milp/generate.ts`; the JSON files are
 * committed, so nothing depends on running this again (it reproduces them byte for byte).
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generalizedAssignment } from '../../src/milp/generators.ts';
import { modelToMilpJson } from '../../src/formulations/milp/export.ts';


const here = dirname(fileURLToPath(import.meta.url));
const examples = [
  { file: 'gap-20x4.json', items: 20, servers: 4, seed: 1 },
  { file: 'gap-100x10.json', items: 100, servers: 10, seed: 1 },
];
for (const e of examples) {
  const model = generalizedAssignment(e.items, e.servers, e.seed, 0.8);
  const description =
    `generalized assignment, ${e.items} items × ${e.servers} servers, Martello–Toth type D ` +
    `(generalizedAssignment(${e.items}, ${e.servers}, seed ${e.seed}, capacity ratio 0.8) in src/milp/generators.ts): ` +
    'x[i][j] = 1 when item i goes to server j; every item on exactly one server, every server within its capacity; minimise total cost';
  writeFileSync(join(here, e.file), `${JSON.stringify(modelToMilpJson(model, description), null, 1)}\n`);
  console.log(`wrote ${e.file}: ${model.variables.length} variables, ${model.constraints.length} rows`);
}
