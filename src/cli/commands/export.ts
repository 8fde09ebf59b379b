/**
 * `edgeplan export <problem> <solution> --to vllm|sglang|llama.cpp|deepspeed|megatron|json` — a solved plan as the
 * configuration a person pastes into the system that runs it (docs/export.md).
 */
import { EXPORT_TARGETS, exportPlan, parseProblem, UsageError, type ExportTarget } from '../../api.ts';
import { EXIT, type CliCommand } from '../context.ts';
import { inFile, readJsonFile, readProblemArgument, writeTextFile } from '../files.ts';

function target(value: string): ExportTarget {
  const t = value.toLowerCase() === 'llamacpp' ? 'llama.cpp' : value.toLowerCase();
  if (!(EXPORT_TARGETS as readonly string[]).includes(t)) {
    throw new UsageError(`--to ${value}: must be one of ${EXPORT_TARGETS.join(', ')}`);
  }
  return t as ExportTarget;
}

/** `a=10.0.0.1,b=10.0.0.2` → server → host. */
function hosts(value: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const pair of value.split(',')) {
    const [server, host] = pair.split('=');
    if (server === undefined || host === undefined || server === '' || host === '') {
      throw new UsageError(`--hosts ${value}: expected server=host[,server=host…]`);
    }
    map.set(server.trim(), host.trim());
  }
  return map;
}

export const exportCommand: CliCommand = {
  register(program, context) {
    program
      .command('export')
      .description('print a solved plan as the configuration of vLLM, SGLang, llama.cpp, DeepSpeed or Megatron-LM')
      .argument('<problem>', 'problem JSON file (pipeline-placement, parallel-placement or fleet-serving)')
      .argument('<solution>', 'the solution: a `solve --json` report or a bare decision')
      .requiredOption('--to <target>', `target system: ${EXPORT_TARGETS.join(' | ')}`, target)
      .option(
        '--hosts <server=host,…>',
        'where each server runs (address or host name); default the server name',
        hosts,
      )
      .option('--out <file>', 'write the configuration to FILE')
      .action(
        (
          problemFile: string,
          solutionFile: string,
          flags: { to: ExportTarget; hosts?: Map<string, string>; out?: string },
        ) => {
          const { io } = context;
          const input = readProblemArgument(problemFile, io);
          const problem = inFile(input.source, () => parseProblem(input.raw));
          const solution = readJsonFile(solutionFile, io.cwd);
          const result = inFile(solutionFile, () =>
            exportPlan(problem, solution, flags.to, flags.hosts !== undefined ? { hosts: flags.hosts } : {}),
          );
          if (flags.out !== undefined) writeTextFile(flags.out, io.cwd, result.text);
          else io.stdout(result.text);
          for (const note of result.notes) io.stderr(`edgeplan: note: ${note}\n`);
          context.exit(EXIT.solved);
        },
      );
  },
};
