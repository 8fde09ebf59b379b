import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.ts';

/** The repository root: relative paths in CLI arguments resolve against it. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in process with captured output (a spawn costs ~0.5 s; this costs ~nothing). */
export async function runCli(argv: readonly string[], env: Record<string, string> = {}, cwd = ROOT): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), cwd, env });
  return { code, stdout, stderr };
}
