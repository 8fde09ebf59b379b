/**
 * A pipeline-placement problem whose model is `hf:config.json`, written with that config into `dir`: the fixture of
 * the tests that check a command resolves `hf:` relative to the problem file, not the working directory.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A TinyLlama-shaped Hugging Face config.json (22 layers unless told), as text. */
export function tinyLlamaConfig(layers = 22): string {
  return JSON.stringify({
    model_type: 'llama',
    torch_dtype: 'float16',
    hidden_size: 2048,
    intermediate_size: 5632,
    num_attention_heads: 32,
    num_key_value_heads: 4,
    num_hidden_layers: layers,
    vocab_size: 32000,
    max_position_embeddings: 2048,
    tie_word_embeddings: false,
  });
}

/** Writes config.json and problem.json into `dir`; returns the problem's path. */
export function writeHfProblem(dir: string): string {
  writeFileSync(join(dir, 'config.json'), tinyLlamaConfig());
  const problem = join(dir, 'problem.json');
  writeFileSync(
    problem,
    JSON.stringify({
      kind: 'pipeline-placement',
      model: 'hf:config.json',
      mode: { kind: 'inference-latency', promptTokens: 128 },
      servers: [
        { name: 'a', device: 'rtx-3090' },
        { name: 'b', device: 'a100-80gb' },
      ],
      links: { default: 'edge-lan' },
    }),
  );
  return problem;
}
