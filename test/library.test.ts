/** The package's entry point offers the library API the CLI is built on. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { it } from 'node:test';
import * as tcpsleuth from '../src/index.js';
import { conformanceDir } from './helpers/paths.js';

it('analyze() from the package entry streams connection records, then a summary', async () => {
  const records: tcpsleuth.AnalysisRecord[] = [];
  for await (const r of tcpsleuth.analyze(join(conformanceDir, 'zeek', 'traces', 'pop3.pcap'))) records.push(r);
  const last = records.at(-1)!;
  assert.equal(last.type, 'summary');
  const conns = records.filter((r): r is tcpsleuth.ConnectionRecord => r.type === 'connection');
  assert.equal(conns.length, 11);
  assert.deepEqual(
    conns.map((c) => c.conn_state).sort(),
    ['REJ', 'REJ', 'REJ', 'REJ', 'REJ', 'REJ', 'SF', 'SF', 'SF', 'SF', 'SF'],
  );
  assert.equal(tcpsleuth.CONN_STATE_MEANING.REJ, 'connection attempt rejected');
});

it('the package resolves by its own name, as a dependent project would import it', async () => {
  const self = (await import('tcpsleuth')) as typeof tcpsleuth;
  assert.equal(typeof self.analyze, 'function');
  assert.equal(typeof self.kernel.Tracer, 'function');
  assert.equal(typeof self.ChatServer, 'function');
});
