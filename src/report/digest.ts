/**
 * What the text report keeps of a stream of connection records: counts of everything, and only
 * the records it will show (the most interesting connections, the strongest findings of each
 * kind). The terminal report of a capture with millions of connections then needs as little
 * memory as `--json` does; `--limit 0` asks for everything and keeps everything.
 */
import type { ConnectionRecord, Finding } from '../analyze/records.js';
import { FAILURE_KINDS } from '../diagnose/knowledge.js';
import type { ConnState } from '../tcp/conn-state.js';
import { HeavyHitters } from './heavy-hitters.js';
import { sideName } from './side-name.js';
import { endpointText } from './terminal.js';

/** Failures first: refused and reset, then attempts that got no answer, then half-closed, then healthy. */
export const INTEREST: Record<ConnState, number> = {
  REJ: 0,
  RSTR: 1,
  RSTO: 2,
  RSTRH: 3,
  RSTOS0: 4,
  S0: 5,
  SH: 6,
  SHR: 7,
  S2: 8,
  S3: 9,
  OTH: 10,
  S1: 11,
  SF: 12,
};

export function byInterest(a: ConnectionRecord, b: ConnectionRecord): number {
  return INTEREST[a.conn_state] - INTEREST[b.conn_state] || a.first - b.first || a.id - b.id;
}

/** Connections the observations line names by id, per kind. */
export const OBSERVATION_IDS = 8;

/**
 * Responder endpoints counted per failure kind (HeavyHitters): any endpoint behind more than
 * 1/64 of a kind's findings is among them, whatever the number of endpoints in the capture.
 */
export const RESPONDER_COUNTERS = 64;

/** The first `capacity` items in `compare` order of everything added (all of them if capacity is 0). */
export class TopItems<T> {
  private readonly list: T[] = [];
  private readonly capacity: number;
  private readonly compare: (a: T, b: T) => number;

  constructor(capacity: number, compare: (a: T, b: T) => number) {
    this.capacity = capacity;
    this.compare = compare;
  }

  add(x: T): void {
    const list = this.list;
    const full = this.capacity > 0 && list.length >= this.capacity;
    if (full && this.compare(x, list[list.length - 1]!) >= 0) return;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compare(list[mid]!, x) <= 0) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, x);
    if (full) list.pop();
  }

  get items(): readonly T[] {
    return this.list;
  }
}

export type FindingOf = readonly [ConnectionRecord, Finding];

export interface FindingGroup {
  /** Findings of this kind in all connections. */
  count: number;
  /** The ones the report shows: failures by confidence, observations by id. */
  shown: TopItems<FindingOf>;
  /**
   * Where a failure kind's findings point, for a capture with thousands of them: the kernel
   * reasons (a small vocabulary), who acted ("server", "client", "network", ...) and the
   * responders (addr:port) they occurred on. Null for observations, reported in one line.
   */
  spread: { reasons: Map<string, number>; actors: Map<string, number>; responders: HeavyHitters } | null;
}

const byConfidence = (a: FindingOf, b: FindingOf): number => b[1].confidence - a[1].confidence || a[0].id - b[0].id;
const byId = (a: FindingOf, b: FindingOf): number => a[0].id - b[0].id;

export class ReportDigest {
  /** Connections added. */
  total = 0;
  /** Connections with at least one failure finding. */
  failedConnections = 0;
  /** Connections without findings, by conn_state. */
  readonly healthy = new Map<ConnState, number>();
  healthyCount = 0;
  readonly groups = new Map<string, FindingGroup>();
  /** The rows of the connection table. */
  readonly table: TopItems<ConnectionRecord>;
  private readonly perKind: number;

  /** `tableLimit`: rows of the connection table; `perKind`: failures shown per kind (0 = all, for both). */
  constructor(tableLimit: number, perKind: number) {
    this.table = new TopItems(tableLimit, byInterest);
    this.perKind = perKind;
  }

  add(r: ConnectionRecord): void {
    this.total++;
    this.table.add(r);
    let failed = false;
    for (const f of r.findings) {
      const failure = FAILURE_KINDS.has(f.kind);
      if (failure) failed = true;
      let g = this.groups.get(f.kind);
      if (g === undefined) {
        g = failure
          ? {
              count: 0,
              shown: new TopItems(this.perKind, byConfidence),
              spread: { reasons: new Map(), actors: new Map(), responders: new HeavyHitters(RESPONDER_COUNTERS) },
            }
          : { count: 0, shown: new TopItems(OBSERVATION_IDS, byId), spread: null };
        this.groups.set(f.kind, g);
      }
      g.count++;
      g.shown.add([r, f]);
      const spread = g.spread;
      if (spread !== null) {
        increment(spread.reasons, f.reason);
        increment(spread.actors, f.by === 'network' ? 'network' : sideName(r, f.by));
        spread.responders.add(endpointText(r.resp.addr, r.resp.port));
      }
    }
    if (failed) this.failedConnections++;
    else if (r.findings.length === 0) {
      this.healthyCount++;
      this.healthy.set(r.conn_state, (this.healthy.get(r.conn_state) ?? 0) + 1);
    }
  }

  static of(records: readonly ConnectionRecord[], tableLimit: number, perKind: number): ReportDigest {
    const d = new ReportDigest(tableLimit, perKind);
    for (const r of records) d.add(r);
    return d;
  }
}

function increment(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}
