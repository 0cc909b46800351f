/**
 * Runs one fuzz input through the whole pipeline in a worker thread, so the parent can notice
 * a hang (a synchronous infinite loop cannot be interrupted from inside) and kill it.
 */
import { parentPort } from 'node:worker_threads';
import { analyzeBuffer } from './analyze-buffer.js';

export interface FuzzRequest {
  bytes: Uint8Array;
  chunk: number;
  verifyChecksums: boolean;
}

export interface FuzzReply {
  /** TsleuthError code, or null when the input was read to the end. */
  errorCode: string | null;
  /** Set when anything other than a TsleuthError escaped: a bug. */
  crash: string | null;
  connections: number;
}

parentPort!.on('message', (req: FuzzRequest) => {
  analyzeBuffer(Buffer.from(req.bytes), { verifyChecksums: req.verifyChecksums }, req.chunk).then(
    (r) => {
      if (r.summary === null) {
        parentPort!.postMessage({ errorCode: null, crash: 'no summary record was produced', connections: 0 } satisfies FuzzReply);
        return;
      }
      parentPort!.postMessage({ errorCode: r.error?.code ?? null, crash: null, connections: r.connections.length } satisfies FuzzReply);
    },
    (e: unknown) => parentPort!.postMessage({ errorCode: null, crash: e instanceof Error ? (e.stack ?? e.message) : String(e), connections: 0 } satisfies FuzzReply),
  );
});
