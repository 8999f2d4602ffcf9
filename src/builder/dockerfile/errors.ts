// Dockerfile errors carry the instruction's line range; the message has the prefix docker
// prints (`dockerfile parse error on line N: ...`), `detail` is the bare reason.

export class DockerfileParseError extends Error {
  override name = 'DockerfileParseError';
  constructor(readonly detail: string, readonly startLine: number, readonly endLine = startLine) {
    super(`dockerfile parse error on line ${startLine}: ${detail}`);
  }
}

/** An error with no position yet; the parser or stage splitter attaches the line. */
export class InstructionError extends Error {
  override name = 'InstructionError';
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
