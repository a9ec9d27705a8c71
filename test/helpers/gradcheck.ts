// Central finite differences in float64: checks an analytic gradient against
// (f(x + h e_i) − f(x − h e_i)) / 2h for every coordinate.
export function gradcheck(f: (x: number[]) => number, x: number[], analytic: ArrayLike<number>, what: string, h = 1e-5, tol = 1e-6): void {
  for (let i = 0; i < x.length; i++) {
    const xp = x.slice(); xp[i] += h;
    const xm = x.slice(); xm[i] -= h;
    const fd = (f(xp) - f(xm)) / (2 * h);
    const err = Math.abs(fd - analytic[i]);
    if (err > tol * (1 + Math.abs(fd))) {
      throw new Error(`${what}: finite difference at [${i}] is ${fd}, analytic ${analytic[i]} (|err| ${err.toExponential(2)})`);
    }
  }
}
