/**
 * One module of typed errors, each with a stable code (as undici does): the CLI maps
 * them to exit statuses and prints one line; library users switch on `code`.
 */
export const ExitCode = { Ok: 0, Runtime: 1, Usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class MigscopeError extends Error {
  readonly code: string = 'MIGSCOPE_ERROR';
  readonly exitCode: ExitCode = ExitCode.Runtime;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad command line: unknown flag, value out of range. Exit 2. */
export class UsageError extends MigscopeError {
  override readonly code = 'MIGSCOPE_USAGE';
  override readonly exitCode = ExitCode.Usage;
}

/** A file that is not a capture we know (magic bytes not recognised). */
export class UnknownFormatError extends MigscopeError {
  override readonly code = 'MIGSCOPE_UNKNOWN_FORMAT';
}

/** A capture file whose structure is broken beyond the per-record recovery. */
export class CorruptFileError extends MigscopeError {
  override readonly code = 'MIGSCOPE_CORRUPT_FILE';
}

export class SourceNotFoundError extends MigscopeError {
  override readonly code = 'MIGSCOPE_SOURCE_NOT_FOUND';
}

/** Live capture without the rights: names the capability needed. */
export class CapturePermissionError extends MigscopeError {
  override readonly code = 'MIGSCOPE_CAPTURE_PERMISSION';
}

export class CaptureError extends MigscopeError {
  override readonly code = 'MIGSCOPE_CAPTURE';
}

/** stdout (or an output file) could not be written: disk full, I/O error, closed socket. */
export class OutputError extends MigscopeError {
  override readonly code = 'MIGSCOPE_OUTPUT';
}

export class FilterError extends MigscopeError {
  override readonly code = 'MIGSCOPE_BAD_FILTER';
}

/** Raised inside decoders on malformed bytes; always caught and turned into an anomaly. */
export class DecodeError extends MigscopeError {
  override readonly code = 'MIGSCOPE_DECODE';
}

export function exitCodeOf(err: unknown): ExitCode {
  return err instanceof MigscopeError ? err.exitCode : ExitCode.Runtime;
}
