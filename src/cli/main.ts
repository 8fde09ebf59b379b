/**
 * The `edgeplan` command. Each command lives in src/cli/commands/ and is registered by one line in
 * COMMANDS. `main` takes argv and I/O as arguments so tests can run it in process.
 *
 * Exit codes: 0 solved (optimal, or feasible within limits), 1 proven infeasible or no solution,
 * 2 bad input or usage, 3 internal or backend error. Errors go to stderr as one line,
 * `edgeplan: <path>: <rule>`, with a stack trace only when EDGEPLAN_DEBUG=1.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { InputError, UsageError } from '../api.ts';
import { checkCommand } from './commands/check.ts';
import { compareCommand } from './commands/compare.ts';
import { kindsCommand } from './commands/kinds.ts';
import { schemaCommand } from './commands/schema.ts';
import { solveCommand } from './commands/solve.ts';
import { profileCommand } from './commands/profile.ts';
import { calibrateCommand } from './commands/calibrate.ts';
import { benchCommand } from './commands/bench.ts';
import { reproduceCommand } from './commands/reproduce.ts';
import { replayCommand } from './commands/replay.ts';
import { batchCommand } from './commands/batch.ts';
import { mergeCommand } from './commands/merge.ts';
import { summarizeCommand } from './commands/summarize.ts';
import { gridCommand } from './commands/grid.ts';
import { importCommand } from './commands/import.ts';
import { showCommand } from './commands/show.ts';
import { modelCommand } from './commands/model.ts';
import { exportCommand } from './commands/export.ts';
import { memoryCommand } from './commands/memory.ts';
import { EXIT, processIo, type CliCommand, type CliIo, type ExitCode } from './context.ts';
import { FileInputError } from './files.ts';

const COMMANDS: readonly CliCommand[] = [
  solveCommand,
  checkCommand,
  compareCommand,
  schemaCommand,
  kindsCommand,
  profileCommand,
  memoryCommand,
  calibrateCommand,
  benchCommand,
  reproduceCommand,
  replayCommand,
  batchCommand,
  mergeCommand,
  summarizeCommand,
  gridCommand,
  importCommand,
  modelCommand,
  exportCommand,
  showCommand,
];

function version(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return typeof pkg === 'object' && pkg !== null && 'version' in pkg ? String(pkg.version) : 'unknown';
}

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim();

function buildProgram(io: CliIo, exit: (code: ExitCode) => void): Command {
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
  for (const command of COMMANDS) command.register(program, context);
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
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
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
