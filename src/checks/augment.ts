import type { KernelCheck } from './check.ts';
import { compare, upload } from './check.ts';
import { augment, drawAugmentOffsets, AUGMENT_STRIDE } from '../kernels/augment.ts';
import { augmentRef } from '../reference/augment.ts';
import { Rng } from '../util/rng.ts';

export interface AugmentCase {
  B: number;
  C: number;
  H: number;
  W: number;
  pad: number;
  /** 'random' (default): drawn by drawAugmentOffsets. 'extremes': example b takes combination
   *  b mod 9 of the 8 corners (dy, dx ∈ {0, 2·pad}) × flip, then the centre (pad, pad) with a
   *  flip, so B ≥ 9 covers every extreme offset with and without a flip. */
  offsets?: 'random' | 'extremes';
  wgX?: number;
  wgY?: number;
}

export function augmentCaseName(c: AugmentCase): string {
  const extra = [c.offsets === 'extremes' && 'extreme offsets', (c.wgX !== undefined || c.wgY !== undefined) && `wg=${c.wgX ?? '-'}x${c.wgY ?? '-'}`].filter(Boolean);
  return `augment_crop_flip B=${c.B} C=${c.C} H=${c.H} W=${c.W} pad=${c.pad}${extra.length ? ' ' + extra.join(' ') : ''}`;
}

/** The 'extremes' offsets: see AugmentCase.offsets. */
export function extremeOffsets(B: number, pad: number): Uint32Array {
  const o = new Uint32Array(AUGMENT_STRIDE * B);
  for (let b = 0; b < B; b++) {
    const k = b % 9;
    const [dy, dx, flip] = k < 8 ? [(k & 1) * 2 * pad, ((k >> 1) & 1) * 2 * pad, (k >> 2) & 1] : [pad, pad, 1];
    o.set([dy, dx, flip], AUGMENT_STRIDE * b);
  }
  return o;
}

export function augmentCheck(c: AugmentCase, seed = 1): KernelCheck {
  const name = augmentCaseName(c);
  return {
    name,
    async run(sched) {
      const rng = new Rng(seed);
      const { B, C, H, W, pad, wgX, wgY } = c;
      // Inputs away from the fill values, so a pixel taken from the wrong place shows.
      const x = rng.uniformArray(B * C * H * W, 1, 2);
      const fill = rng.uniformArray(C, -3, -2);
      const offsets = c.offsets === 'extremes' ? extremeOffsets(B, pad) : drawAugmentOffsets(rng, B, pad);
      const vx = upload(sched, x), vo = upload(sched, offsets), vf = upload(sched, fill);
      const out = sched.alloc(B * C * H * W, 'augmented');
      augment(sched, { x: vx, offsets: vo, fill: vf, out }, { B, C, H, W, pad, wgX, wgY });
      const got = await sched.read(out);
      for (const v of [vx, vo, vf, out]) sched.free(v);
      // A pure data movement: every element must be bit-exact.
      return compare(name, [['out', got, augmentRef(x, offsets, fill, { B, C, H, W, pad }), { atol: 0, rtol: 0 }]]);
    },
  };
}
