import type { KernelCheck, CheckResult } from './check.ts';
import { compare, upload, dotTol } from './check.ts';
import type { View } from '../kernels/kernel.ts';
import type { Scheduler } from '../sched/scheduler.ts';
import { gcDistAccum, gcAssign, gcCount, gcScatter, peSqnormAccum, gcLayerTerms, gcScratch, type GcOp } from '../kernels/gc.ts';
import {
  gcDistAccumRef, gcAssignRef, gcCountRef, gcScatterRef, peSqnormAccumRef, gcScoreRef,
  gcDistMaterialisedRef, peSqnormMaterialisedRef, type GcLayerRef,
} from '../reference/gc.ts';
import { Rng } from '../util/rng.ts';

export interface GcCase {
  op: GcOp;
  B: number;
  /** clusters (unused by pe_sqnorm_accum) */
  C?: number;
  /** gc_scatter row length */
  D?: number;
  beta?: number;
  scale?: number;
  quant?: number;
  bias?: boolean;
  /** gc_assign: NaN and ±inf in dist and counts (rows 0–3, cluster 1); gc_count/gc_scatter:
   *  every 5th assignment ≥ C (C itself or 0xffffffff), which must be skipped */
  special?: boolean;
  wg?: number;
  wgX?: number;
  wgY?: number;
}

export function gcCaseName(c: GcCase): string {
  const extra = [
    c.beta && `beta=${c.beta}`,
    c.scale !== undefined && c.scale !== 1 && `scale=${c.scale}`,
    c.quant && `quant=${c.quant}`,
    c.bias && 'bias',
    c.special && (c.op === 'gc_assign' ? 'nan/inf' : 'skipped ids'),
    c.wg !== undefined && `wg=${c.wg}`,
    (c.wgX !== undefined || c.wgY !== undefined) && `wg=${c.wgX ?? '-'}x${c.wgY ?? '-'}`,
  ].filter(Boolean);
  const dims = [`B=${c.B}`, c.op !== 'pe_sqnorm_accum' && `C=${c.C}`, c.op === 'gc_scatter' && `D=${c.D}`].filter(Boolean);
  return `${c.op} ${dims.join(' ')}${extra.length ? ' ' + extra.join(' ') : ''}`;
}

type Out = { view: View; u32?: boolean; want: ArrayLike<number>; atol: number; rtol: number };

async function readAll(sched: Scheduler, name: string, ins: View[], outs: Record<string, Out>): Promise<CheckResult> {
  const got: Record<string, ArrayLike<number>> = {};
  for (const [n, o] of Object.entries(outs)) got[n] = o.u32 ? await sched.readU32(o.view) : await sched.read(o.view);
  for (const v of [...ins, ...Object.values(outs).map((o) => o.view)]) sched.free(v);
  return compare(name, Object.entries(outs).map(([n, o]) => [n, got[n], o.want, { atol: o.atol, rtol: o.rtol }]));
}

/** Random assignments in [0, C); with `special`, every 5th is C or 0xffffffff (skipped). */
function randomAssign(rng: Rng, B: number, C: number, special = false): Uint32Array {
  const a = new Uint32Array(B);
  for (let i = 0; i < B; i++) a[i] = special && i % 5 === 2 ? (i % 10 === 2 ? C : 0xffffffff) : rng.int(C);
  return a;
}

/** dist [B, C] in [0, 1) and integer counts in [0, 5] for gc_assign. With quant, entries whose
 *  (count+1)·dist/quant lies within 1e-3 of a half-integer are redrawn, so f32 and f64 round
 *  the same way and the quantised values (and their many ties) are exact. */
function assignInputs(rng: Rng, B: number, C: number, quant: number, special: boolean) {
  const counts = new Float32Array(C).map(() => rng.int(6));
  const dist = rng.uniformArray(B * C, 0, 1);
  if (quant > 0) {
    for (let e = 0; e < B * C; e++) {
      const f = ((counts[e % C] + 1) * dist[e]) / quant;
      if (Math.abs(f - Math.floor(f) - 0.5) < 1e-3) { dist[e] = Math.fround(dist[e] * 0.9); e--; }
    }
  }
  if (special && B >= 4 && C >= 3) {
    // row 0: NaN where its minimum was; row 1: all NaN (→ k = 0, best NaN); row 2: all +inf
    // (→ k = 0, best +inf); row 3: −inf at the last cluster (wins). Cluster 1's count is NaN,
    // so cluster 1 wins no row that has a number anywhere.
    const min0 = gcAssignRef(dist.subarray(0, C), counts, { B: 1, C, quant }).assign[0];
    dist[min0] = NaN;
    for (let k = 0; k < C; k++) { dist[C + k] = NaN; dist[2 * C + k] = Infinity; }
    dist[3 * C + C - 1] = -Infinity;
    counts[1] = NaN;
  }
  return { dist, counts };
}

export function gcCheck(c: GcCase, seed = 1): KernelCheck {
  const name = gcCaseName(c);
  return {
    name,
    async run(sched) {
      const rng = new Rng(seed);
      const { B, C = 1, D = 1, wg, wgX, wgY } = c;
      // Scalars as the GPU sees them (f32), so only the kernels' own rounding is compared.
      const beta = Math.fround(c.beta ?? 0), scale = Math.fround(c.scale ?? 1), quant = Math.fround(c.quant ?? 0);
      const cfg = { wg, wgX, wgY };
      if (c.op === 'gc_dist_accum') {
        const t = {
          aa: rng.uniformArray(B, 0, 2), gg: rng.uniformArray(B, 0, 2), P: rng.uniformArray(B * C), Q: rng.uniformArray(B * C),
          ci2: rng.uniformArray(C, 0, 2), co2: rng.uniformArray(C, 0, 2),
        };
        const dist0 = rng.uniformArray(B * C, -4, 4);
        const v = Object.fromEntries(Object.entries(t).map(([n, a]) => [n, upload(sched, a)])) as Record<keyof typeof t, View>;
        const dist = upload(sched, dist0);
        gcDistAccum(sched, { ...v, dist }, { B, C, beta, ...cfg });
        // terms ≤ 4 + 2 + 4 + 4|beta|: a few f32 roundings of that size
        const atol = 6e-7 * (10 + 4 * Math.abs(beta));
        return readAll(sched, name, Object.values(v), { dist: { view: dist, want: gcDistAccumRef(t, { B, C, beta, dist0 }), atol, rtol: 0 } });
      }
      if (c.op === 'gc_assign') {
        const { dist, counts } = assignInputs(rng, B, C, quant, !!c.special);
        const vd = upload(sched, dist), vc = upload(sched, counts);
        const assign = sched.alloc(B, 'assign'), best = sched.alloc(B, 'best');
        gcAssign(sched, { dist: vd, counts: vc, assign, best }, { B, C, quant, ...cfg });
        const ref = gcAssignRef(dist, counts, { B, C, quant });
        const got = await sched.readU32(assign);
        // Without quantisation the GPU ranks f32 products, the reference exact ones: where the
        // two choices' exact values agree to f32 precision it is a tie, and either is right.
        const want = Uint32Array.from(ref.assign, (k, i) => {
          const g = got[i];
          if (quant > 0 || g === k || g >= C) return k;
          const vg = gcScoreRef(dist[i * C + g], counts[g]), vk = ref.best[i];
          return Math.abs(vg - vk) <= 2.4e-7 * Math.abs(vk) ? g : k;
        });
        return readAll(sched, name, [vd, vc], {
          assign: { view: assign, u32: true, want, atol: 0, rtol: 0 },
          best: { view: best, want: ref.best, atol: 0, rtol: quant > 0 ? 1.2e-7 : 2.4e-7 },
        });
      }
      if (c.op === 'gc_count') {
        const a = randomAssign(rng, B, C, c.special);
        const counts0 = new Float32Array(C).map(() => rng.int(1000));
        const va = upload(sched, a), counts = upload(sched, counts0);
        gcCount(sched, { assign: va, counts }, { B, C, beta, ...cfg });
        return readAll(sched, name, [va], { counts: { view: counts, want: gcCountRef(a, { B, C, beta, counts0 }), atol: 0, rtol: 1.2e-7 } });
      }
      if (c.op === 'gc_scatter') {
        const a = randomAssign(rng, B, C, c.special);
        const X = rng.uniformArray(B * D), S0 = rng.uniformArray(C * D);
        const va = upload(sched, a), vX = upload(sched, X), S = upload(sched, S0);
        gcScatter(sched, { assign: va, X: vX, S }, { B, C, D, beta, scale, ...cfg });
        const tol = dotTol(B);
        const want = gcScatterRef(a, X, { B, C, D, beta, scale, S0 });
        return readAll(sched, name, [va, vX], { S: { view: S, want, atol: tol.atol! * Math.max(1, Math.abs(scale), Math.abs(beta)), rtol: tol.rtol! } });
      }
      const aa = rng.uniformArray(B, 0, 2), gg = rng.uniformArray(B, 0, 2), out0 = rng.uniformArray(B, 0, 8);
      const va = upload(sched, aa), vg = upload(sched, gg), out = upload(sched, out0);
      peSqnormAccum(sched, { aa: va, gg: vg, out }, { B, beta, bias: c.bias, ...cfg });
      const want = peSqnormAccumRef(aa, gg, { B, beta, bias: c.bias, out0 });
      return readAll(sched, name, [va, vg], { out: { view: out, want, atol: 6e-7 * (6 + 8 * Math.abs(beta)), rtol: 0 } });
    },
  };
}

export interface GcLayerCase {
  B: number;
  C: number;
  /** [din, dout] of each Linear layer, summed over in order */
  layers: Array<[number, number]>;
  /** per-example norms include the bias gradients */
  bias?: boolean;
}

export function gcLayerCaseName(c: GcLayerCase): string {
  return `gcLayerTerms + pe_sqnorm_accum vs explicit per-example gradients B=${c.B} C=${c.C} layers=${c.layers.map(([i, o]) => `${i}→${o}`).join(',')}${c.bias ? ' bias' : ''}`;
}

/** SPEC 10.1: the factored A-step (gcLayerTerms, summed over layers) equals Σ_l ||δ_i a_iᵀ −
 *  d_k c_kᵀ||²_F, and pe_sqnorm_accum equals Σ_l ||δ_i a_iᵀ||² (+ ||δ_i||²), both computed from
 *  explicitly materialised per-example gradients in float64. Centre 0 of every layer is
 *  example 0's own factors (c_0 = a_0, d_0 = δ_0), so dist[0, 0] cancels to 0. */
export function gcLayerCheck(c: GcLayerCase, seed = 1): KernelCheck {
  const name = gcLayerCaseName(c);
  return {
    name,
    async run(sched) {
      const rng = new Rng(seed);
      const { B, C, bias = false } = c;
      const layers: Array<GcLayerRef & { A: Float32Array; G: Float32Array; Ci: Float32Array; Co: Float32Array }> = c.layers.map(([din, dout]) => {
        const A = rng.uniformArray(B * din), G = rng.uniformArray(B * dout, -0.1, 0.1);
        const Ci = rng.uniformArray(C * din), Co = rng.uniformArray(C * dout, -0.1, 0.1);
        Ci.set(A.subarray(0, din));
        Co.set(G.subarray(0, dout));
        return { din, dout, A, G, Ci, Co };
      });
      const scratch = gcScratch(sched, B, C);
      const dist = sched.alloc(B * C, 'dist'), norms = sched.alloc(B, 'norms');
      const ins: View[] = [scratch.all];
      layers.forEach((l, n) => {
        const v = { A: upload(sched, l.A), G: upload(sched, l.G), Ci: upload(sched, l.Ci), Co: upload(sched, l.Co) };
        ins.push(...Object.values(v));
        const beta = n === 0 ? 0 : 1;
        gcLayerTerms(sched, { ...v, dist, scratch }, { B, din: l.din, dout: l.dout, C, beta });
        // scratch.aa, scratch.gg hold this layer's norms until the next layer's terms.
        peSqnormAccum(sched, { aa: scratch.aa, gg: scratch.gg, out: norms }, { B, beta, bias });
      });
      // f32 error ~ √K·eps of the terms' size (√(aa·gg) + √(ci2·co2))², summed over layers.
      let size = 0, K = 1;
      for (const l of layers) {
        const rn = (X: ArrayLike<number>, r: number, n: number) => { let s = 0; for (let j = 0; j < n; j++) s += X[r * n + j] ** 2; return s; };
        let gmax = 0, cmax = 0;
        for (let i = 0; i < B; i++) gmax = Math.max(gmax, Math.sqrt(rn(l.A, i, l.din) * rn(l.G, i, l.dout)));
        for (let k = 0; k < C; k++) cmax = Math.max(cmax, Math.sqrt(rn(l.Ci, k, l.din) * rn(l.Co, k, l.dout)));
        size += (gmax + cmax) ** 2;
        K = Math.max(K, l.din, l.dout);
      }
      const atol = 2e-7 * Math.sqrt(K) * size;
      return readAll(sched, name, ins, {
        dist: { view: dist, want: gcDistMaterialisedRef(layers, B, C), atol, rtol: 0 },
        norms: { view: norms, want: peSqnormMaterialisedRef(layers, B, bias), atol: 0, rtol: 2e-7 * Math.sqrt(K) },
      });
    },
  };
}
