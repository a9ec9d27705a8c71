// Seeded randomness, identical in Node and the browser (xoroshiro128+ from pure-rand).
// The state is four int32s, so it can be stored in a checkpoint and restored exactly.
import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';

type Gen = ReturnType<typeof xoroshiro128plus>;

export class Rng {
  private gen: Gen;
  private spare: number | null = null; // second normal of the last Box–Muller pair

  constructor(seed: number | readonly number[]) {
    this.gen = typeof seed === 'number' ? xoroshiro128plus(seed) : xoroshiro128plusFromState(seed);
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = (this.gen.next() >>> 0) >>> 5; // 27 bits
    const lo = (this.gen.next() >>> 0) >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T extends { length: number; [i: number]: any }>(a: T): T {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** Float32Array of uniforms in [lo, hi). */
  uniformArray(n: number, lo = -1, hi = 1): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }

  /** Exact state for checkpoints: restoring it continues the same sequence. */
  state(): number[] {
    if (this.spare !== null) return [...this.gen.getState(), this.spare];
    return [...this.gen.getState()];
  }

  static fromState(s: readonly number[]): Rng {
    const r = new Rng(s.slice(0, 4));
    if (s.length > 4) r.spare = s[4];
    return r;
  }
}
