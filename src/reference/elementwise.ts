// float64 references for shaders/elementwise.wgsl: the executable spec of each op.

export function reluRef(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => Math.max(v, 0));
}

/** dx = dy where the forward output y > 0, else 0 (derivative 0 at x = 0). */
export function reluBackwardRef(y: ArrayLike<number>, dy: ArrayLike<number>): Float64Array {
  return Float64Array.from(dy, (g, i) => (y[i] > 0 ? g : 0));
}

/** returns y + a·x */
export function axpyRef(a: number, x: ArrayLike<number>, y: ArrayLike<number>): Float64Array {
  return Float64Array.from(y, (v, i) => v + a * x[i]);
}

/** returns a·x */
export function scaleRef(a: number, x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => a * v);
}

export function fillRef(n: number, value: number): Float64Array {
  return new Float64Array(n).fill(value);
}

/** returns x² elementwise */
export function squareRef(x: ArrayLike<number>): Float64Array {
  return Float64Array.from(x, (v) => v * v);
}
