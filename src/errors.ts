/**
 * One error class for everything tcpsleuth reports about its input or its environment.
 *
 * Callers and tests match on `code` (stable), never on the message text. `fatal` says whether
 * reading had to stop; non-fatal faults are normally counted, not thrown. Context (file, byte
 * offset, frame number) travels with the error so the CLI can print one precise sentence.
 */
export type ErrorCode =
  | 'TSL_ERR_NOT_A_CAPTURE' // the first bytes are no pcap/pcapng/gzip magic
  | 'TSL_ERR_TRUNCATED' // the file ends in the middle of a header or record
  | 'TSL_ERR_CORRUPT' // a length or field that cannot be right (record longer than any snaplen, bad block length, ...)
  | 'TSL_ERR_LINKTYPE' // a link type tcpsleuth cannot dissect
  | 'TSL_ERR_IO' // the file or stream could not be read
  | 'TSL_ERR_USAGE' // bad command-line usage
  | 'TSL_ERR_PRIVILEGE' // the operation needs root or a capability we do not have
  | 'TSL_ERR_ENV'; // a tool, file system or kernel feature the operation needs is missing

export interface ErrorContext {
  file?: string;
  /** Byte offset in the (decompressed) capture where the fault starts. */
  offset?: number;
  /** 1-based number of the frame being read when the fault happened. */
  frame?: number;
}

export class TsleuthError extends Error {
  readonly code: ErrorCode;
  readonly fatal: boolean;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, fatal = true) {
    super(message);
    this.name = 'TsleuthError';
    this.code = code;
    this.fatal = fatal;
    this.context = context;
  }

  /** The message with its context, as one sentence for a terminal. */
  describe(): string {
    const where: string[] = [];
    if (this.context.file !== undefined) where.push(this.context.file);
    if (this.context.frame !== undefined) where.push(`frame ${this.context.frame}`);
    if (this.context.offset !== undefined) where.push(`byte offset ${this.context.offset}`);
    return where.length > 0 ? `${where.join(', ')}: ${this.message}` : this.message;
  }
}
