// float64 references for shaders/conv_stats.wgsl: per-example gradient statistics of a conv
// layer (SPEC 1.4, 1.6, 11), by both contractions and by explicitly materialised per-example
// gradients. Layouts (dense row-major): x [B, Cin, H, W], dy [B, Cout, Ho, Wo] (δ), weights
// [Cout, Cin, kh, kw], patches [B, T, din] with din = Cin·kh·kw in the order (cin, ky, kx) of
// the weight layout and T = Ho·Wo positions in the order (oy, ox); Ci [C, din], Co [C, Cout],
// per-example gradients [Cout, din]; GG [B], CG [B, C], dist [B, C].

export interface ConvGeom {
  B: number; Cin: number; H: number; W: number; Cout: number;
  kh: number; kw: number; stride: number; pad: number;
}

/** Output size and unfolded sizes: Ho = ⌊(H + 2p − kh)/s⌋ + 1, T = Ho·Wo, din = Cin·kh·kw. */
export function convDims(g: ConvGeom): { Ho: number; Wo: number; T: number; din: number } {
  const Ho = Math.floor((g.H + 2 * g.pad - g.kh) / g.stride) + 1;
  const Wo = Math.floor((g.W + 2 * g.pad - g.kw) / g.stride) + 1;
  return { Ho, Wo, T: Ho * Wo, din: g.Cin * g.kh * g.kw };
}

/** a_{i,t}[j]: the unfolded patches [B, T, din], zero where the window covers padding. */
export function convPatchesRef(x: ArrayLike<number>, g: ConvGeom): Float64Array {
  const { Ho, Wo, T, din } = convDims(g);
  const out = new Float64Array(g.B * T * din);
  for (let i = 0; i < g.B; i++) {
    for (let oy = 0; oy < Ho; oy++) {
      for (let ox = 0; ox < Wo; ox++) {
        const row = (i * T + oy * Wo + ox) * din;
        for (let c = 0; c < g.Cin; c++) {
          for (let ky = 0; ky < g.kh; ky++) {
            for (let kx = 0; kx < g.kw; kx++) {
              const iy = oy * g.stride + ky - g.pad, ix = ox * g.stride + kx - g.pad;
              if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
              out[row + (c * g.kh + ky) * g.kw + kx] = x[((i * g.Cin + c) * g.H + iy) * g.W + ix];
            }
          }
        }
      }
    }
  }
  return out;
}

/** The explicit per-example weight gradients g_i = Σ_t δ_{i,t} a_{i,t}ᵀ, [B][Cout·din]. */
export function convPerExampleGradsRef(x: ArrayLike<number>, dy: ArrayLike<number>, g: ConvGeom): Float64Array[] {
  const { T, din } = convDims(g);
  const A = convPatchesRef(x, g);
  return Array.from({ length: g.B }, (_, i) => {
    const gi = new Float64Array(g.Cout * din);
    for (let o = 0; o < g.Cout; o++) {
      for (let t = 0; t < T; t++) {
        const d = dy[(i * g.Cout + o) * T + t];
        for (let j = 0; j < din; j++) gi[o * din + j] += d * A[(i * T + t) * din + j];
      }
    }
    return gi;
  });
}

/** GG type 1 (Gram over positions): Σ_{s,t} <a_s, a_t>·<δ_s, δ_t> per example. */
export function convGGType1Ref(x: ArrayLike<number>, dy: ArrayLike<number>, g: ConvGeom): Float64Array {
  const { T, din } = convDims(g);
  const A = convPatchesRef(x, g);
  const out = new Float64Array(g.B);
  for (let i = 0; i < g.B; i++) {
    for (let s = 0; s < T; s++) {
      for (let t = 0; t < T; t++) {
        let aa = 0, dd = 0;
        for (let j = 0; j < din; j++) aa += A[(i * T + s) * din + j] * A[(i * T + t) * din + j];
        for (let o = 0; o < g.Cout; o++) dd += dy[(i * g.Cout + o) * T + s] * dy[(i * g.Cout + o) * T + t];
        out[i] += aa * dd;
      }
    }
  }
  return out;
}

/** GG type 2: ||g_i||²_F of the materialised gradient. */
export function convGGType2Ref(x: ArrayLike<number>, dy: ArrayLike<number>, g: ConvGeom): Float64Array {
  return Float64Array.from(convPerExampleGradsRef(x, dy, g), (gi) => gi.reduce((s, v) => s + v * v, 0));
}

/** CG type 1: Σ_t <c_k, a_{i,t}>·<d_k, δ_{i,t}>, [B, C]. */
export function convCGType1Ref(x: ArrayLike<number>, dy: ArrayLike<number>, Ci: ArrayLike<number>, Co: ArrayLike<number>, g: ConvGeom, C: number): Float64Array {
  const { T, din } = convDims(g);
  const A = convPatchesRef(x, g);
  const out = new Float64Array(g.B * C);
  for (let i = 0; i < g.B; i++) {
    for (let k = 0; k < C; k++) {
      for (let t = 0; t < T; t++) {
        let p = 0, q = 0;
        for (let j = 0; j < din; j++) p += Ci[k * din + j] * A[(i * T + t) * din + j];
        for (let o = 0; o < g.Cout; o++) q += Co[k * g.Cout + o] * dy[(i * g.Cout + o) * T + t];
        out[i * C + k] += p * q;
      }
    }
  }
  return out;
}

/** CG type 2: Σ_{o,j} d_k[o]·g_i[o, j]·c_k[j] from the materialised gradient, [B, C]. */
export function convCGType2Ref(x: ArrayLike<number>, dy: ArrayLike<number>, Ci: ArrayLike<number>, Co: ArrayLike<number>, g: ConvGeom, C: number): Float64Array {
  const { din } = convDims(g);
  const grads = convPerExampleGradsRef(x, dy, g);
  const out = new Float64Array(g.B * C);
  grads.forEach((gi, i) => {
    for (let k = 0; k < C; k++) {
      let s = 0;
      for (let o = 0; o < g.Cout; o++) for (let j = 0; j < din; j++) s += Co[k * g.Cout + o] * gi[o * din + j] * Ci[k * din + j];
      out[i * C + k] = s;
    }
  });
  return out;
}

/** The conv bias gradient's squared norm ||Σ_t δ_{i,t}||², [B]. */
export function convBiasSqRef(dy: ArrayLike<number>, g: ConvGeom): Float64Array {
  const { T } = convDims(g);
  const out = new Float64Array(g.B);
  for (let i = 0; i < g.B; i++) {
    for (let o = 0; o < g.Cout; o++) {
      let s = 0;
      for (let t = 0; t < T; t++) s += dy[(i * g.Cout + o) * T + t];
      out[i] += s * s;
    }
  }
  return out;
}

/** dist[i,k] = beta·dist0[i,k] + ci2[k]·co2[k] − 2·CG[i,k] + GG[i] */
export function convDistAccumRef(
  t: { GG: ArrayLike<number>; CG: ArrayLike<number>; ci2: ArrayLike<number>; co2: ArrayLike<number> },
  a: { B: number; C: number; beta?: number; dist0?: ArrayLike<number> | null },
): Float64Array {
  const { B, C, beta = 0, dist0 } = a;
  const out = new Float64Array(B * C);
  for (let i = 0; i < B; i++) {
    for (let k = 0; k < C; k++) {
      const e = i * C + k;
      out[e] = t.ci2[k] * t.co2[k] - 2 * t.CG[e] + t.GG[i] + (beta !== 0 && dist0 ? beta * dist0[e] : 0);
    }
  }
  return out;
}

/** One conv layer's data and rank-1 centres for the explicit references. */
export interface ConvLayerRef {
  g: ConvGeom;
  x: ArrayLike<number>;
  dy: ArrayLike<number>;
  /** [C, din] */ Ci: ArrayLike<number>;
  /** [C, Cout] */ Co: ArrayLike<number>;
}

/** Σ_layers ||g_i − d_k c_kᵀ||²_F, both matrices formed explicitly (SPEC 10.2). */
export function convDistMaterialisedRef(layers: ConvLayerRef[], C: number): Float64Array {
  const B = layers[0].g.B;
  const dist = new Float64Array(B * C);
  for (const l of layers) {
    const { din } = convDims(l.g);
    const Cout = l.g.Cout;
    const grads = convPerExampleGradsRef(l.x, l.dy, l.g);
    for (let k = 0; k < C; k++) {
      for (let i = 0; i < B; i++) {
        let s = 0;
        for (let o = 0; o < Cout; o++) {
          for (let j = 0; j < din; j++) s += (grads[i][o * din + j] - l.Co[k * Cout + o] * l.Ci[k * din + j]) ** 2;
        }
        dist[i * C + k] += s;
      }
    }
  }
  return dist;
}

/** Σ_layers ||g_i||²_F (+ ||Σ_t δ_{i,t}||² per layer when `bias`), from explicit gradients. */
export function convSqnormMaterialisedRef(layers: Array<Pick<ConvLayerRef, 'g' | 'x' | 'dy'>>, bias: boolean): Float64Array {
  const out = new Float64Array(layers[0].g.B);
  for (const l of layers) {
    const gg = convGGType2Ref(l.x, l.dy, l.g);
    const bb = convBiasSqRef(l.dy, l.g);
    for (let i = 0; i < out.length; i++) out[i] += gg[i] + (bias ? bb[i] : 0);
  }
  return out;
}

/** U-step rows (SPEC 1.6): Ais[i] = (1/T)·Σ_t a_{i,t}/stable [B, din], Gos[i] = Σ_t δ_{i,t}·stable [B, Cout]. */
export function convUstepRowsRef(x: ArrayLike<number>, dy: ArrayLike<number>, g: ConvGeom, stable: number): { Ais: Float64Array; Gos: Float64Array } {
  const { T, din } = convDims(g);
  const A = convPatchesRef(x, g);
  const Ais = new Float64Array(g.B * din), Gos = new Float64Array(g.B * g.Cout);
  for (let i = 0; i < g.B; i++) {
    for (let t = 0; t < T; t++) for (let j = 0; j < din; j++) Ais[i * din + j] += A[(i * T + t) * din + j];
    for (let j = 0; j < din; j++) Ais[i * din + j] /= T * stable;
    for (let o = 0; o < g.Cout; o++) {
      let s = 0;
      for (let t = 0; t < T; t++) s += dy[(i * g.Cout + o) * T + t];
      Gos[i * g.Cout + o] = s * stable;
    }
  }
  return { Ais, Gos };
}

/** The fake loss of example i, l_i(W, b) = Σ_{o,t} δ_{i,o,t}·(conv(x_i; W)[o, t] + b[o]), with
 *  the convolution done directly (no patches): its gradient in W is g_i and in b is Σ_t δ_{i,t}. */
export function convFakeLossRef(W: ArrayLike<number>, b: ArrayLike<number>, x: ArrayLike<number>, dy: ArrayLike<number>, g: ConvGeom, i: number): number {
  const { Ho, Wo, T } = convDims(g);
  let loss = 0;
  for (let o = 0; o < g.Cout; o++) {
    for (let oy = 0; oy < Ho; oy++) {
      for (let ox = 0; ox < Wo; ox++) {
        let z = b[o];
        for (let c = 0; c < g.Cin; c++) {
          for (let ky = 0; ky < g.kh; ky++) {
            const iy = oy * g.stride - g.pad + ky;
            if (iy < 0 || iy >= g.H) continue;
            for (let kx = 0; kx < g.kw; kx++) {
              const ix = ox * g.stride - g.pad + kx;
              if (ix < 0 || ix >= g.W) continue;
              z += W[((o * g.Cin + c) * g.kh + ky) * g.kw + kx] * x[((i * g.Cin + c) * g.H + iy) * g.W + ix];
            }
          }
        }
        loss += dy[(i * g.Cout + o) * T + oy * Wo + ox] * z;
      }
    }
  }
  return loss;
}
