// float64 references for shaders/gc.wgsl, plus the explicit per-example-gradient versions
// (SPEC 10.1) that the factored A-step and norms must agree with. Arrays are dense row-major:
// A [B, din], G [B, dout], Ci [C, din], Co [C, dout], dist [B, C], X [B, D], S [C, D].

/** dist[i,k] = beta·dist0[i,k] + ci2[k]·co2[k] − 2·P[i,k]·Q[i,k] + aa[i]·gg[i] */
export function gcDistAccumRef(
  t: { aa: ArrayLike<number>; gg: ArrayLike<number>; P: ArrayLike<number>; Q: ArrayLike<number>; ci2: ArrayLike<number>; co2: ArrayLike<number> },
  a: { B: number; C: number; beta?: number; dist0?: ArrayLike<number> | null },
): Float64Array {
  const { B, C, beta = 0, dist0 } = a;
  const out = new Float64Array(B * C);
  for (let i = 0; i < B; i++) {
    for (let k = 0; k < C; k++) {
      const e = i * C + k;
      const v = t.ci2[k] * t.co2[k] - 2 * t.P[e] * t.Q[e] + t.aa[i] * t.gg[i];
      out[e] = v + (beta !== 0 && dist0 ? beta * dist0[e] : 0);
    }
  }
  return out;
}

/** Round half to even, as WGSL round() and torch.round (Math.round rounds halves up). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The A-step's value for cluster k: (counts[k] + 1)·d, rounded to a multiple of quant. */
export function gcScoreRef(d: number, count: number, quant = 0): number {
  const v = (count + 1) * d;
  return quant > 0 ? roundHalfEven(v / quant) * quant : v;
}

/** The A-step's order: a number before NaN, then the smaller value, then the lower index. */
function before(v: number, k: number, bv: number, bk: number): boolean {
  if (bk < 0) return true;
  if (Number.isNaN(v) !== Number.isNaN(bv)) return Number.isNaN(bv);
  if (!Number.isNaN(v) && v !== bv) return v < bv;
  return k < bk;
}

/** assign[i] = argmin_k gcScoreRef(dist[i,k], counts[k], quant), best[i] its value. */
export function gcAssignRef(dist: ArrayLike<number>, counts: ArrayLike<number>, a: { B: number; C: number; quant?: number }): { assign: Uint32Array; best: Float64Array } {
  const { B, C, quant = 0 } = a;
  const assign = new Uint32Array(B);
  const best = new Float64Array(B);
  for (let i = 0; i < B; i++) {
    let bv = 0, bk = -1;
    for (let k = 0; k < C; k++) {
      const v = gcScoreRef(dist[i * C + k], counts[k], quant);
      if (before(v, k, bv, bk)) { bv = v; bk = k; }
    }
    assign[i] = bk;
    best[i] = bv;
  }
  return { assign, best };
}

/** counts[k] = beta·counts0[k] + #{i : assign[i] = k}; values ≥ C are skipped. */
export function gcCountRef(assign: ArrayLike<number>, a: { B: number; C: number; beta?: number; counts0?: ArrayLike<number> | null }): Float64Array {
  const { B, C, beta = 0, counts0 } = a;
  const out = new Float64Array(C);
  if (beta !== 0 && counts0) for (let k = 0; k < C; k++) out[k] = beta * counts0[k];
  for (let i = 0; i < B; i++) if (assign[i] < C) out[assign[i]] += 1;
  return out;
}

/** S[k,j] = beta·S0[k,j] + scale·Σ_{i : assign[i] = k} X[i,j]; assign values ≥ C are skipped. */
export function gcScatterRef(assign: ArrayLike<number>, X: ArrayLike<number>, a: { B: number; C: number; D: number; beta?: number; scale?: number; S0?: ArrayLike<number> | null }): Float64Array {
  const { B, C, D, beta = 0, scale = 1, S0 } = a;
  const S = new Float64Array(C * D);
  if (beta !== 0 && S0) for (let e = 0; e < C * D; e++) S[e] = beta * S0[e];
  for (let i = 0; i < B; i++) {
    const k = assign[i];
    if (k >= C) continue;
    for (let j = 0; j < D; j++) S[k * D + j] += scale * X[i * D + j];
  }
  return S;
}

/** out[i] = beta·out0[i] + aa[i]·gg[i] + bias·gg[i] */
export function peSqnormAccumRef(aa: ArrayLike<number>, gg: ArrayLike<number>, a: { B: number; beta?: number; bias?: boolean; out0?: ArrayLike<number> | null }): Float64Array {
  const { B, beta = 0, bias = false, out0 } = a;
  const out = new Float64Array(B);
  for (let i = 0; i < B; i++) out[i] = aa[i] * gg[i] + (bias ? gg[i] : 0) + (beta !== 0 && out0 ? beta * out0[i] : 0);
  return out;
}

/** One Linear layer's data and centres for the explicit references. */
export interface GcLayerRef {
  din: number;
  dout: number;
  /** [B, din] */ A: ArrayLike<number>;
  /** [B, dout] */ G: ArrayLike<number>;
  /** [C, din] */ Ci: ArrayLike<number>;
  /** [C, dout] */ Co: ArrayLike<number>;
}

/** outer(u, v) = u vᵀ as a row-major [u.length, v.length] matrix, from rows of flat arrays. */
function outer(u: ArrayLike<number>, uAt: number, n: number, v: ArrayLike<number>, vAt: number, m: number): Float64Array {
  const o = new Float64Array(n * m);
  for (let r = 0; r < n; r++) for (let c = 0; c < m; c++) o[r * m + c] = u[uAt + r] * v[vAt + c];
  return o;
}

/** Materialised per-example weight gradients of one layer: g_i = δ_i a_iᵀ, [B][dout·din]. */
export function perExampleWeightGradsRef(l: GcLayerRef, B: number): Float64Array[] {
  return Array.from({ length: B }, (_, i) => outer(l.G, i * l.dout, l.dout, l.A, i * l.din, l.din));
}

/** dist[i,k] = Σ_layers ||δ_i a_iᵀ − d_k c_kᵀ||²_F with both matrices formed explicitly. */
export function gcDistMaterialisedRef(layers: GcLayerRef[], B: number, C: number): Float64Array {
  const dist = new Float64Array(B * C);
  for (const l of layers) {
    const g = perExampleWeightGradsRef(l, B);
    for (let k = 0; k < C; k++) {
      const ck = outer(l.Co, k * l.dout, l.dout, l.Ci, k * l.din, l.din);
      for (let i = 0; i < B; i++) {
        let s = 0;
        for (let e = 0; e < ck.length; e++) s += (g[i][e] - ck[e]) ** 2;
        dist[i * C + k] += s;
      }
    }
  }
  return dist;
}

/** ||g_i||² over the layers' explicit weight gradients δ_i a_iᵀ, plus ||δ_i||² (the bias
 *  gradient) per layer when `bias`. */
export function peSqnormMaterialisedRef(layers: GcLayerRef[], B: number, bias: boolean): Float64Array {
  const out = new Float64Array(B);
  for (const l of layers) {
    const g = perExampleWeightGradsRef(l, B);
    for (let i = 0; i < B; i++) {
      for (const v of g[i]) out[i] += v * v;
      if (bias) for (let o = 0; o < l.dout; o++) out[i] += l.G[i * l.dout + o] ** 2;
    }
  }
  return out;
}

/** The per-example fake loss l_i(W, b) = δ_iᵀ(W a_i + b) of a Linear layer (W [dout, din]),
 *  whose gradient in W is δ_i a_iᵀ and in b is δ_i: ties the convention above to a derivative. */
export function linearFakeLossRef(W: ArrayLike<number>, b: ArrayLike<number>, l: Pick<GcLayerRef, 'din' | 'dout' | 'A' | 'G'>, i: number): number {
  let s = 0;
  for (let o = 0; o < l.dout; o++) {
    let z = b[o];
    for (let j = 0; j < l.din; j++) z += W[o * l.din + j] * l.A[i * l.din + j];
    s += l.G[i * l.dout + o] * z;
  }
  return s;
}
