// float64 references for shaders/rf.wgsl and the random-features model itself (SPEC 3.5).
// The model references are written the plain way (two logits, softmax, cross-entropy against
// the smoothed target, gradients of both rows of W2 and both biases); the kernel references
// use the reduced form r = (u, σ) the shader uses, and the tests check one against the other
// (and the model gradient against central finite differences).
// Layouts are the shader's (f32 units): phi [R, H]; data [E, 3] (phi row, label, ||φ||² as f32
// bits); theta [M, PS], PS = 2H + 4 (W2[0], W2[1], b0, b1, 0, 0); reduced gradients [.., RS],
// RS = H + 4 (u, σ, 0, 0, 0); plans as described in shaders/rf.wgsl.

export const PS = (H: number): number => 2 * H + 4;
export const RS = (H: number): number => H + 4;

/** relu(X·W1ᵀ): X [N, dim], W1 [H, dim] → [N, H]. */
export function rfFeaturesRef(X: ArrayLike<number>, W1: ArrayLike<number>, N: number, dim: number, H: number): Float64Array {
  const out = new Float64Array(N * H);
  for (let i = 0; i < N; i++) {
    for (let h = 0; h < H; h++) {
      let z = 0;
      for (let d = 0; d < dim; d++) z += X[i * dim + d] * W1[h * dim + d];
      out[i * H + h] = Math.max(z, 0);
    }
  }
  return out;
}

/** Logits (z0, z1) of one feature row under params [2H + 2]. */
export function rfLogitsRef(params: ArrayLike<number>, phiRow: ArrayLike<number>, H: number): [number, number] {
  let z0 = params[2 * H], z1 = params[2 * H + 1];
  for (let h = 0; h < H; h++) { z0 += params[h] * phiRow[h]; z1 += params[H + h] * phiRow[h]; }
  return [z0, z1];
}

/** Smoothed target of class 0 (SPEC 5.5 with K = 2: q = 1 − eps on the label, eps elsewhere). */
export const q0Of = (label: number, eps: number): number => (label === 0 ? 1 - eps : eps);

/** Softmax of two logits and the cross-entropy against the smoothed target. */
export function rfExampleRef(z: [number, number], label: number, eps: number): { p0: number; loss: number; correct: number } {
  const m = Math.max(z[0], z[1]);
  const lse = m + Math.log(Math.exp(z[0] - m) + Math.exp(z[1] - m));
  const q0 = q0Of(label, eps);
  const loss = -(q0 * (z[0] - lse) + (1 - q0) * (z[1] - lse));
  return { p0: Math.exp(z[0] - lse), loss, correct: (z[0] >= z[1] ? 0 : 1) === label ? 1 : 0 };
}

/** Weighted mean loss Σ w_i ℓ_i / B over rows (feature rows phi[rows[i]]) and its full
 *  gradient w.r.t. params [2H + 2] (dℓ/dz_k = p_k − q_k, so row k of W2 gets (p_k − q_k)·φ). */
export function rfLossGradRef(params: ArrayLike<number>, phi: ArrayLike<number>, H: number, rows: ArrayLike<number>, labels: ArrayLike<number>,
  o: { eps?: number; weights?: ArrayLike<number> } = {}): { loss: number; grad: Float64Array } {
  const { eps = 0, weights } = o;
  const B = rows.length;
  const grad = new Float64Array(2 * H + 2);
  let loss = 0;
  for (let i = 0; i < B; i++) {
    const row = Array.from({ length: H }, (_, h) => phi[rows[i] * H + h]);
    const ex = rfExampleRef(rfLogitsRef(params, row, H), labels[i], eps);
    const w = weights ? weights[i] : 1;
    loss += (w * ex.loss) / B;
    const q0 = q0Of(labels[i], eps);
    const d = [(w * (ex.p0 - q0)) / B, (w * (1 - ex.p0 - (1 - q0))) / B];
    for (let h = 0; h < H; h++) { grad[h] += d[0] * row[h]; grad[H + h] += d[1] * row[h]; }
    grad[2 * H] += d[0];
    grad[2 * H + 1] += d[1];
  }
  return { loss, grad };
}

// ---- kernel references (reduced form) -----------------------------------------------------

export interface RfRefTables {
  H: number;
  /** [R, H] feature rows */
  phi: ArrayLike<number>;
  /** [E, 3] (row, label, f32 bits of ||φ||²) */
  data: ArrayLike<number>;
  eps?: number;
}

const rowOf = (t: RfRefTables, e: number) => t.data[3 * e];
const labelOf = (t: RfRefTables, e: number) => t.data[3 * e + 1];
export const f32OfBits = (u: number): number => new Float32Array(Uint32Array.of(u).buffer)[0];
export const rowOfEntry = (t: RfRefTables, e: number): number => t.data[3 * e];

/** s = p0 − q0 (NaN for a label ≥ 2) of entry e under the params at `pb` in `theta`. */
export function coefRef(t: RfRefTables, theta: ArrayLike<number>, pb: number, e: number): { s: number; loss: number; correct: number } {
  const { H, phi, eps = 0 } = t;
  const label = labelOf(t, e);
  if (label > 1) return { s: NaN, loss: NaN, correct: NaN };
  const row = Array.from({ length: H }, (_, h) => phi[rowOf(t, e) * H + h]);
  const ex = rfExampleRef(rfLogitsRef(Array.from({ length: 2 * H + 2 }, (_, i) => theta[pb + i]), row, H), label, eps);
  return { s: ex.p0 - q0Of(label, eps), loss: ex.loss, correct: ex.correct };
}

/** rf_sgd_step: K steps of every model on its B items per step; returns theta and stats. */
export function rfSgdStepRef(t: RfRefTables, theta0: ArrayLike<number>, lrs: ArrayLike<number>, plan: ArrayLike<number>,
  a: { M: number; B: number; K: number; item0: number; wd: number; stats0?: ArrayLike<number> }): { theta: Float64Array; stats: Float64Array } {
  const { H } = t;
  const { M, B, K, item0, wd } = a;
  const ps = PS(H);
  const theta = Float64Array.from(theta0);
  const stats = a.stats0 ? Float64Array.from(a.stats0) : new Float64Array(2 * M);
  for (let k = 0; k < K; k++) {
    for (let m = 0; m < M; m++) {
      const es = Array.from({ length: B }, (_, b) => plan[item0 + (k * M + m) * B + b]);
      const cl = es.map((e) => coefRef(t, theta, m * ps, e));
      const u = new Float64Array(H);
      es.forEach((e, b) => { for (let h = 0; h < H; h++) u[h] += (cl[b].s / B) * t.phi[rowOf(t, e) * H + h]; });
      const sg = cl.reduce((s, c) => s + c.s / B, 0);
      const lr = lrs[m], p = m * ps;
      for (let h = 0; h < H; h++) {
        theta[p + h] -= lr * (u[h] + wd * theta[p + h]);
        theta[p + H + h] -= lr * (-u[h] + wd * theta[p + H + h]);
      }
      theta[p + 2 * H] -= lr * (sg + wd * theta[p + 2 * H]);
      theta[p + 2 * H + 1] -= lr * (-sg + wd * theta[p + 2 * H + 1]);
      stats[2 * m] += cl.reduce((s, c) => s + c.loss, 0) / B;
      stats[2 * m + 1] += cl.reduce((s, c) => s + c.correct, 0) / B;
    }
  }
  return { theta, stats };
}

/** rf_grad: one reduced gradient [RS] per job (m, start, count, svrg); snap = [M, PS] θ̃, then μ [M, RS]. */
export function rfGradRef(t: RfRefTables, theta: ArrayLike<number>, snap: ArrayLike<number>, plan: ArrayLike<number>, wts: ArrayLike<number>,
  a: { M: number; J: number }): Float64Array {
  const { H } = t;
  const ps = PS(H), rs = RS(H);
  const out = new Float64Array(a.J * rs);
  for (let j = 0; j < a.J; j++) {
    const [m, start, count, svrg] = [0, 1, 2, 3].map((q) => plan[4 * j + q]);
    const o = j * rs;
    if (svrg) for (let h = 0; h < rs; h++) out[o + h] = snap[a.M * ps + m * rs + h];
    for (let b = 0; b < count; b++) {
      const e = plan[start + b];
      let s = coefRef(t, theta, m * ps, e).s;
      if (svrg) s -= coefRef(t, snap, m * ps, e).s;
      const c = (wts[start + b] * s) / count;
      for (let h = 0; h < H; h++) out[o + h] += c * t.phi[rowOf(t, e) * H + h];
      out[o + H] += c;
    }
  }
  return out;
}

/** rf_coef: coef [3E] (s, loss, correct per entry) for the items (m, e); other entries keep out0. */
export function rfCoefRef(t: RfRefTables, theta: ArrayLike<number>, plan: ArrayLike<number>, a: { J: number; E: number; out0: ArrayLike<number> }): Float64Array {
  const out = Float64Array.from(a.out0);
  for (let i = 0; i < a.J; i++) {
    const m = plan[2 * i], e = plan[2 * i + 1];
    const c = coefRef(t, theta, m * PS(t.H), e);
    out[e] = c.s;
    out[a.E + e] = c.loss;
    out[2 * a.E + e] = c.correct;
  }
  return out;
}

/** rf_scatter: sums[(row0 + k)·RS + h] += scale·coefs[e]·(φ_e, 1)[h] per item (e, k). */
export function rfScatterRef(t: RfRefTables, plan: ArrayLike<number>, coefs: ArrayLike<number>, a: { J: number; sums0: ArrayLike<number> }): Float64Array {
  const { H } = t;
  const sums = Float64Array.from(a.sums0);
  const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
  for (let j = 0; j < a.J; j++) {
    const [start, count, row0] = [plan[4 * j], plan[4 * j + 1], plan[4 * j + 2]];
    u32[0] = plan[4 * j + 3];
    const scale = f32[0];
    for (let b = 0; b < count; b++) {
      const e = plan[start + 2 * b], k = plan[start + 2 * b + 1];
      const o = (row0 + k) * RS(H);
      for (let h = 0; h < H; h++) sums[o + h] += scale * coefs[e] * t.phi[rowOf(t, e) * H + h];
      sums[o + H] += scale * coefs[e];
    }
  }
  return sums;
}

/** rf_gvar: per job, SPEC 2.5's sums over the RS coordinates of 2n consecutive draws [RS]. */
export function rfGvarRef(draws: ArrayLike<number>, a: { J: number; n: number; H: number; nvarEps?: number; logEps?: number }): Float64Array {
  const { J, n, H, nvarEps = 1e-7, logEps = 1e-10 } = a;
  const H1 = RS(H);
  const out = new Float64Array(4 * J);
  for (let j = 0; j < J; j++) {
    const at = (r: number, h: number) => draws[(j * 2 * n + r) * H1 + h];
    for (let h = 0; h < H1; h++) {
      let E = 0, S = 0, V = 0;
      for (let r = 0; r < n; r++) E += at(r, h) / n;
      for (let r = n; r < 2 * n; r++) { S += at(r, h) ** 2; V += (E - at(r, h)) ** 2; }
      out[4 * j] += V;
      out[4 * j + 1] += V / (S + nvarEps);
      out[4 * j + 2] += Math.log(S + logEps) - Math.log(V + logEps);
      out[4 * j + 3] += S;
    }
  }
  return out;
}
