/**
 * The tracker reuses ended connections: begin()/reset() must make an object exactly as fresh as
 * a new one. Every field is scrambled, the object reset, and compared with a new object, so a
 * field added to a class but forgotten in its reset fails here.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Connection } from '../src/tcp/connection.js';
import { Endpoint } from '../src/tcp/endpoint.js';
import { RareEvidence, SideEvidence } from '../src/tcp/evidence.js';

/** Changes every field it can reach: numbers, flags, strings, arrays, nested objects. */
function scramble(o: object, seen = new Set<object>()): void {
  if (seen.has(o)) return;
  seen.add(o);
  const rec = o as Record<string, unknown>;
  for (const k of Object.keys(rec)) {
    const v = rec[k];
    if (typeof v === 'number') rec[k] = v + 12345;
    else if (typeof v === 'boolean') rec[k] = !v;
    else if (typeof v === 'string') rec[k] = `${v}junk`;
    else if (v instanceof Float64Array) v.fill(9.5);
    else if (Array.isArray(v)) v.push(1, 2, 3);
    else if (v instanceof Set) v.add('junk');
    else if (v !== null && typeof v === 'object') scramble(v, seen);
    else if (v === null && k === 'rare') rec[k] = scrambled(new RareEvidence());
    else if (v === null && k === 'weirds') rec[k] = new Set(['junk']);
    else if (v === null && k === 'blocks') rec[k] = [1, 2];
  }
}

function scrambled<T extends object>(o: T): T {
  scramble(o);
  return o;
}

it('a reused Connection, its endpoints and their evidence are exactly as fresh as new ones', () => {
  const args = [7, 0x1234, 1709251200.25, 42, 1, 5, 1709251205.25] as const;
  const c = new Connection(...args);
  scramble(c);
  c.flipRoles(); // the endpoint objects swap places: begin() must still reset both
  c.begin(...args);
  const fresh = new Connection(...args);
  // The scrambled RareEvidence is kept, cleared, for the next unusual event of that side.
  for (const e of [c.orig, c.resp]) {
    assert.deepEqual(e.ev.spareRare, new RareEvidence());
    e.ev.spareRare = null;
  }
  assert.deepEqual(c, fresh);
});

it('Endpoint.reset, SideEvidence.reset and RareEvidence.reset agree with the constructors', () => {
  const e = scrambled(new Endpoint(false));
  e.reset(true);
  e.ev.spareRare = null;
  assert.deepEqual(e, new Endpoint(true));
  const s = scrambled(new SideEvidence());
  s.reset();
  assert.deepEqual(s.spareRare, new RareEvidence());
  s.spareRare = null;
  assert.deepEqual(s, new SideEvidence());
  const r = scrambled(new RareEvidence());
  r.reset();
  assert.deepEqual(r, new RareEvidence());
});
