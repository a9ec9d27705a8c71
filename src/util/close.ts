// One tolerance rule for every GPU-vs-reference comparison: |got − want| ≤ atol + rtol·|want|.
// On failure the message names the worst index and lists the first mismatches.

export interface Tol {
  atol?: number;
  rtol?: number;
}

export function closeReport(got: ArrayLike<number>, want: ArrayLike<number>, { atol = 1e-5, rtol = 1e-4 }: Tol = {}): string | null {
  if (got.length !== want.length) return `length ${got.length} != expected ${want.length}`;
  let bad = 0;
  let worst = -1;
  let worstExcess = -Infinity;
  const first: string[] = [];
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    const lim = atol + rtol * Math.abs(w);
    const err = Math.abs(g - w);
    const ok = err <= lim || (Number.isNaN(g) && Number.isNaN(w)) || (g === w);
    if (!ok) {
      bad++;
      const excess = Number.isNaN(err) ? Infinity : err - lim;
      if (excess > worstExcess) { worstExcess = excess; worst = i; }
      if (first.length < 5) first.push(`  [${i}] got ${g} want ${w} (|err| ${err.toExponential(2)} > ${lim.toExponential(2)})`);
    }
  }
  if (bad === 0) return null;
  return `${bad}/${want.length} elements out of tolerance (atol ${atol}, rtol ${rtol}); worst at [${worst}]: got ${got[worst]} want ${want[worst]}\n${first.join('\n')}`;
}

export function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: Tol = {}, what = 'values'): void {
  const r = closeReport(got, want, tol);
  if (r) throw new Error(`${what}: ${r}`);
}
