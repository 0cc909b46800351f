/** Runs the library's analyze() over in-memory bytes, split into chunks as a test chooses. */
import { analyze, type AnalyzeOptions } from '../../src/analyze/analyze.js';
import type { ConnectionRecord, SummaryRecord } from '../../src/analyze/records.js';
import { TsleuthError } from '../../src/errors.js';

export interface AnalyzeResult {
  connections: ConnectionRecord[];
  summary: SummaryRecord | null;
  error: TsleuthError | null;
}

async function* chunked(b: Buffer, sizes: number[] | number): AsyncGenerator<Buffer> {
  let off = 0;
  let i = 0;
  while (off < b.length) {
    const n = typeof sizes === 'number' ? sizes : (sizes[i++] ?? b.length);
    yield b.subarray(off, off + Math.max(1, n));
    off += Math.max(1, n);
  }
}

export async function analyzeBuffer(b: Buffer, options: AnalyzeOptions = {}, chunks: number[] | number = b.length || 1): Promise<AnalyzeResult> {
  const out: AnalyzeResult = { connections: [], summary: null, error: null };
  try {
    for await (const r of analyze(chunked(b, chunks), { name: 'test', ...options })) {
      if (r.type === 'connection') out.connections.push(r);
      else out.summary = r;
    }
  } catch (e) {
    if (!(e instanceof TsleuthError)) throw e;
    out.error = e;
  }
  return out;
}
