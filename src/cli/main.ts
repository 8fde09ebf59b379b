/**
 * The `edgeplan` command. Each command lives in src/cli/commands/ and is registered by one line in
 * COMMANDS (its name and module). `main` takes argv and I/O as arguments so tests can run it in process.
 *
 * Exit codes: 0 solved (optimal, or feasible within limits), 1 proven infeasible or no solution,
 * 2 bad input or usage, 3 internal or backend error. Errors go to stderr as one line,
 * `edgeplan: <path>: <rule>`, with a stack trace only when EDGEPLAN_DEBUG=1.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { InputError, UsageError } from '../api-kinds.ts';
import { EXIT, processIo, type CliCommand, type CliIo, type ExitCode } from './context.ts';
import { FileInputError } from './file-error.ts';

/**
 * Each command's module, imported only when that command runs (issue 18, fast start): a command pulls in what it
 * needs (solvers, pictures, the batch pool, every family), and `edgeplan kinds` should not pay for `edgeplan show`.
 * The key is the command's name as typed; help, a bare `edgeplan` and unknown commands load them all.
 */
const COMMANDS: Readonly<Record<string, () => Promise<CliCommand>>> = {
  solve: async () => (await import('./commands/solve.ts')).solveCommand,
  check: async () => (await import('./commands/check.ts')).checkCommand,
  compare: async () => (await import('./commands/compare.ts')).compareCommand,
  schema: async () => (await import('./commands/schema.ts')).schemaCommand,
  kinds: async () => (await import('./commands/kinds.ts')).kindsCommand,
  profile: async () => (await import('./commands/profile.ts')).profileCommand,
  memory: async () => (await import('./commands/memory.ts')).memoryCommand,
  calibrate: async () => (await import('./commands/calibrate.ts')).calibrateCommand,
  bench: async () => (await import('./commands/bench.ts')).benchCommand,
  reproduce: async () => (await import('./commands/reproduce.ts')).reproduceCommand,
  replay: async () => (await import('./commands/replay.ts')).replayCommand,
  batch: async () => (await import('./commands/batch.ts')).batchCommand,
  merge: async () => (await import('./commands/merge.ts')).mergeCommand,
  summarize: async () => (await import('./commands/summarize.ts')).summarizeCommand,
  grid: async () => (await import('./commands/grid.ts')).gridCommand,
  import: async () => (await import('./commands/import.ts')).importCommand,
  model: async () => (await import('./commands/model.ts')).modelCommand,
  export: async () => (await import('./commands/export.ts')).exportCommand,
  show: async () => (await import('./commands/show.ts')).showCommand,
};

/** The commands `argv` can run: the one it names first, or all of them (help, no command, a mistyped one). */
async function commandsFor(argv: readonly string[]): Promise<CliCommand[]> {
  const first = argv[0];
  if (first !== undefined && Object.hasOwn(COMMANDS, first)) return [await COMMANDS[first]()];
  return Promise.all(Object.values(COMMANDS).map((load) => load()));
}

function version(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return typeof pkg === 'object' && pkg !== null && 'version' in pkg ? String(pkg.version) : 'unknown';
}

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim();

function buildProgram(io: CliIo, exit: (code: ExitCode) => void, commands: readonly CliCommand[]): Command {
  const program = new Command('edgeplan')
    .description('Exact planner for splitting, freezing and placing LLMs across devices, edge servers and the cloud')
    .version(version(), '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
      // commander's own usage errors ("error: unknown option '--x'") in the same one-line form as ours.
      outputError: (text, write) => write(`edgeplan: ${oneLine(text.replace(/^error:\s*/, ''))}\n`),
    })
    .showSuggestionAfterError(true);
  const context = { io, exit };
  for (const command of commands) command.register(program, context);
  return program;
}

function errorLine(error: unknown): { line: string; code: ExitCode } {
  if (error instanceof FileInputError) return { line: `${error.inner.path}: ${error.inner.rule} (in ${error.file})`, code: EXIT.badInput };
  if (error instanceof InputError) return { line: `${error.path}: ${error.rule}`, code: EXIT.badInput };
  if (error instanceof UsageError) return { line: error.message, code: EXIT.badInput };
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { line: `internal error: ${message}`, code: EXIT.internal };
}

/** Runs the CLI on `argv` (without `node` and the script) and resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<ExitCode> {
  let code: ExitCode = EXIT.solved;
  try {
    const program = buildProgram(
      io,
      (c) => {
        code = c;
      },
      await commandsFor(argv),
    );
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    // commander has already printed its message (help, version, or a usage error).
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.solved : EXIT.badInput;
    const { line, code: errorCode } = errorLine(error);
    io.stderr(`edgeplan: ${oneLine(line)}\n`);
    if (io.env.EDGEPLAN_DEBUG === '1' && error instanceof Error && error.stack !== undefined) io.stderr(`${error.stack}\n`);
    return errorCode;
  }
}
