// float64 references for shaders/rf_gc.wgsl (Gradient Clustering of many RF students).
// Centres (f32 units): c_k rows [M, C, H], then d_k [M, C, 4] as (d0, d1, 0, 0).
import { f32OfBits, rowOfEntry, type RfRefTables } from './rf.ts';

/** The A-step order of gc.wgsl: a number before NaN, then the smaller value, then lower k. */
function before(v: number, k: number, bv: number, bk: number): boolean {
  if (bk < 0) return true;
  if (Number.isNaN(v) !== Number.isNaN(bv)) return Number.isNaN(bv);
  if (!Number.isNaN(v) && v !== bv) return v < bv;
  return k < bk;
}

/** rf_gc_assign: model m's A-pass over its items in order, batches of B (last short). */
export function rfGcAssignRef(t: RfRefTables, plan: ArrayLike<number>, coefs: ArrayLike<number>, centres: ArrayLike<number>,
  a: { M: number; J: number; B: number; C: number; quant: number; E: number }): { assign: Int32Array; gcout: Float64Array } {
  const { H } = t;
  const { M, B, C, quant } = a;
  const assign = new Int32Array(a.E).fill(-1);
  const gcout = new Float64Array(2 * M * C);
  for (let j = 0; j < a.J; j++) {
    const [m, start, count] = [plan[4 * j], plan[4 * j + 1], plan[4 * j + 2]];
    const c = (k: number, h: number) => centres[m * C * H + k * H + h];
    const d = (k: number, q: number) => centres[M * C * H + (m * C + k) * 4 + q];
    const cc = Array.from({ length: C }, (_, k) => { let s = 0; for (let h = 0; h < H; h++) s += c(k, h) ** 2; return s * (d(k, 0) ** 2 + d(k, 1) ** 2); });
    const cnt = new Float64Array(C), td = new Float64Array(C);
    for (let b0 = 0; b0 < count; b0 += B) {
      const nb = Math.min(B, count - b0);
      const picks: Array<[number, number]> = [];
      for (let i = 0; i < nb; i++) {
        const e = plan[start + b0 + i];
        const ws = coefs[e] / nb, sq = f32OfBits(t.data[3 * e + 2]);
        let bv = 0, bk = -1;
        for (let k = 0; k < C; k++) {
          let dot = 0;
          for (let h = 0; h < H; h++) dot += c(k, h) * t.phi[rowOfEntry(t, e) * H + h];
          let v = (cnt[k] + 1) * (sq * 2 * ws * ws - 2 * dot * ws * (d(k, 0) - d(k, 1)) + cc[k]);
          if (quant > 0) v = roundHalfEven(v / quant) * quant;
          if (before(v, k, bv, bk)) { bv = v; bk = k; }
        }
        assign[e] = bk;
        picks.push([bk, bv]);
      }
      for (const [k, v] of picks) { cnt[k] += 1; td[k] += v; }
    }
    for (let k = 0; k < C; k++) { gcout[m * C + k] = td[k]; gcout[M * C + m * C + k] = cnt[k]; }
  }
  return { assign, gcout };
}

/** WGSL's round(): half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** rf_gc_update: the jobs' models' centres recomputed (others keep centres0). */
export function rfGcUpdateRef(t: RfRefTables, plan: ArrayLike<number>, coefs: ArrayLike<number>, aux: ArrayLike<number>,
  a: { M: number; J: number; C: number; stable: number; centres0: ArrayLike<number> }): Float64Array {
  const { H } = t;
  const { M, C, stable } = a;
  const out = Float64Array.from(a.centres0);
  for (let j = 0; j < a.J; j++) {
    const [m, start, count, s0] = [0, 1, 2, 3].map((q) => plan[4 * j + q]);
    const cb = m * C * H, db = M * C * H + m * C * 4;
    out.fill(0, cb, cb + C * H);
    out.fill(0, db, db + 4 * C);
    for (let b = 0; b < count; b++) {
      const e = plan[start + 2 * b], k = plan[start + 2 * b + 1];
      const nk = Math.max(aux[m * C + k], 1);
      for (let h = 0; h < H; h++) out[cb + k * H + h] += t.phi[rowOfEntry(t, e) * H + h] / (stable * nk);
      const v = (coefs[e] * aux[M * C + s0 + b] * stable) / nk;
      out[db + 4 * k] += v;
      out[db + 4 * k + 1] -= v;
    }
  }
  return out;
}

