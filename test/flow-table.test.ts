/**
 * The flow table against a plain Map of 4-tuples: random inserts, lookups from both directions
 * and removals (which shift later entries of a probe run back), with hashes forced to collide
 * so that long runs and wrap-around at the end of the table are exercised.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { PacketView } from '../src/dissect/packet.js';
import { Connection } from '../src/tcp/connection.js';
import { FlowTable, flowHash } from '../src/tcp/flow-table.js';

function view(src: number, sport: number, dst: number, dport: number): PacketView {
  const v = new PacketView();
  v.src2 = v.dst2 = 0xffff;
  v.src3 = src;
  v.srcPort = sport;
  v.dst3 = dst;
  v.dstPort = dport;
  return v;
}

it('finds, from either direction, exactly the live connections a Map of 4-tuples holds', () => {
  let seed = 99;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const table = new FlowTable();
  const reference = new Map<string, Connection>();
  let id = 1;
  for (let step = 0; step < 60000; step++) {
    // A small space of tuples so that inserts, hits and removals all happen often.
    const a = 0x0a000001 + rand(40);
    const b = 0x0a000101;
    const sport = 40000 + rand(100);
    const v = view(a, sport, b, 80);
    const key = `${a}:${sport}`;
    // Half the hashes are squeezed into a few values near the end of the table: long probe runs that wrap.
    const hash = rand(2) === 0 ? flowHash(v) : 0x3fffffff - rand(3);
    const live = reference.get(key);
    const found = table.find(live?.hash ?? hash, v);
    assert.equal(found, live ?? null, `lookup of ${key} at step ${step}`);
    if (live !== undefined) {
      assert.equal(table.find(live.hash, view(b, 80, a, sport)), live, 'the reverse direction finds it too');
      if (rand(3) === 0) {
        table.remove(live);
        reference.delete(key);
      }
    } else if (rand(2) === 0) {
      const c = new Connection(id++, hash, 0, 1, 0, 5, 5);
      c.origA2 = c.respA2 = 0xffff;
      c.origA3 = a;
      c.origPort = sport;
      c.respA3 = b;
      c.respPort = 80;
      table.insert(c);
      reference.set(key, c);
    }
    assert.equal(table.size, reference.size);
  }
  assert.deepEqual(new Set(table.all()), new Set(reference.values()));
  assert.ok(id > 1000, 'the test inserted many connections');
});
