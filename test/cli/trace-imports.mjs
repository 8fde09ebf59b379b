// Records every module URL that Node resolves, one per line, in the file named by EDGEPLAN_TRACE_FILE. Loaded with
// `node --import ./test/cli/trace-imports.mjs ...`: it registers resolve hooks, which run off the main thread in
// Node ≥ 20.6, so they append straight to the file (no message channel needed). Used by test/cli/startup.test.ts to
// check that light commands never load heavy modules; a timing would be flaky, the list of modules is not.
import { register } from 'node:module';

register(new URL('./trace-imports-hooks.mjs', import.meta.url));
