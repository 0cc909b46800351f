/** The benchmark's command line. */
import { parseArgs } from 'node:util';

export interface BenchArgs {
  /** Packets in the 1× file. */
  packets: number;
  skip5x: boolean;
  /** Where to write the captures and leave them; null: a temporary directory, removed at the end. */
  keepDir: string | null;
  /** Only the capture benchmark (no chat fan-out, no tracing overhead). */
  analyzeOnly: boolean;
  /** Rounds on the 1× file (every tool once per round, the fastest run counts); half as many on the 5× file. */
  runs: number;
}

export const USAGE = `usage: npm run bench -- [--packets N] [--skip-5x] [--keep DIR] [--analyze-only] [--runs N]
  --packets N      packets in the 1x capture (default 2000000; smaller for a quick run)
  --skip-5x        do not generate or measure the 5x capture
  --keep DIR       write the captures to DIR and keep them
  --analyze-only   skip the chat fan-out and tracing-overhead benchmarks
  --runs N         rounds on the 1x capture (half as many on the 5x), the tools taking turns;
                   each tool's fastest run counts (default 5)`;

/** Throws an Error whose message is fit for the terminal on bad usage. */
export function parseBenchArgs(argv: readonly string[], defaultPackets: number): BenchArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      packets: { type: 'string' },
      'skip-5x': { type: 'boolean', default: false },
      keep: { type: 'string' },
      'analyze-only': { type: 'boolean', default: false },
      runs: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const packets = values.packets === undefined ? defaultPackets : Number(values.packets);
  if (!Number.isInteger(packets) || packets < 1) throw new Error(`--packets needs a positive whole number, not ${values.packets}`);
  const runs = values.runs === undefined ? 5 : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs needs a positive whole number, not ${values.runs}`);
  return { packets, skip5x: values['skip-5x'] === true, keepDir: values.keep ?? null, analyzeOnly: values['analyze-only'] === true, runs };
}
