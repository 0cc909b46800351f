/**
 * A small seeded PRNG (sfc32, seeded through splitmix32) so that a given seed always yields the
 * same capture, byte for byte: benchmark runs stay comparable and a failure can be replayed.
 * Math.random cannot be seeded, and the quality needed here is "looks random", not crypto.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const splitmix = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = splitmix();
    this.b = splitmix();
    this.c = splitmix();
    this.d = splitmix();
    // sfc32's first outputs still correlate with the seed; its authors recommend discarding a few.
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [lo, hi], both included. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  /** Exponential with the given mean: the gap between events of a Poisson process. */
  exp(mean: number): number {
    return -mean * Math.log(1 - this.float());
  }

  /** Uniform in log space: for quantities spanning orders of magnitude, like round-trip times. */
  logUniform(lo: number, hi: number): number {
    return lo * Math.pow(hi / lo, this.float());
  }

  /** One of the table's values, drawn with probability proportional to its weight. */
  weighted<T>(table: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of table) total += w;
    let x = this.float() * total;
    for (const [value, w] of table) {
      x -= w;
      if (x < 0) return value;
    }
    return table[table.length - 1]![0];
  }
}
