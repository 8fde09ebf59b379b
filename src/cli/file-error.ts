/**
 * Bad input found in a named file. Its own module (not files.ts) so that main.ts can recognise it without loading
 * what files.ts reads with (model files, Hugging Face configs): fast start, issue 18.
 */
import type { InputError } from '../api-kinds.ts';

export class FileInputError extends Error {
  readonly exitCode = 2;
  constructor(
    readonly file: string,
    readonly inner: InputError,
  ) {
    super(`${inner.message} (in ${file})`);
    this.name = 'FileInputError';
  }
}
