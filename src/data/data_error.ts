// One error type for every file that cannot be read as what it claims to be (MNIST IDX,
// safetensors checkpoints, JSONL logs). The message is one line: the file, then what is wrong,
// so a user sees e.g. "train-images-idx3-ubyte: truncated: ..." and never a parser's stack.

export class DataError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'DataError';
  }
}

/** Throws a DataError naming the file and the problem. */
export function dataError(file: string, problem: string): never {
  throw new DataError(file, problem);
}
