/**
 * What a CLI command needs from the outside world, injectable so that tests run the CLI in
 * process (no spawn per case) with captured output.
 */
import type { Command } from 'commander';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Directory that relative file arguments are resolved against. */
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface CliContext {
  readonly io: CliIo;
  /** Records the exit code of the command that ran (0 solved, 1 infeasible/none, 2 input, 3 internal). */
  exit(code: ExitCode): void;
}

export const EXIT = { solved: 0, noSolution: 1, badInput: 2, internal: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** One CLI command: a file in src/cli/commands/ and one line (name → module) in main.ts's COMMANDS table. */
export interface CliCommand {
  register(program: Command, context: CliContext): void;
}

let pipeGuarded = false;

export function processIo(): CliIo {
  if (!pipeGuarded) {
    pipeGuarded = true;
    // `edgeplan schema | head` closes the pipe early; that is the reader's choice, not an error.
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    cwd: process.cwd(),
    env: process.env,
  };
}
