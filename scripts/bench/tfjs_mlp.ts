// The peer for scripts/bench/train_step.ts: the same MLP SGD step in TF.js 4.22 — Linear
// layers in PyTorch's [out, in] layout, ReLU, softmax cross-entropy (mean), L2 weight decay
// folded into the gradient as torch does, momentum SGD — on `tfjs-backend-webgpu` over a
// Dawn adapter of the same backend as ours, or on `tfjs-backend-wasm`.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { MlpConfig } from '../../src/models/mlp.ts';

export interface PeerStep {
  /** one SGD step; with `sync`, waits until its loss is on the host */
  step(sync?: boolean): Promise<void>;
  dispose(): void;
}

// Keep every Dawn instance referenced for the life of the process (DESIGN section 7).
const dawn: unknown[] = [];

async function loadTf(kind: 'webgpu' | 'wasm', backend: string) {
  const tf = await import('@tensorflow/tfjs');
  if (kind === 'webgpu') {
    if (!tf.findBackend('webgpu')) {
      const { create, globals } = await import('webgpu');
      Object.assign(globalThis, globals);
      const dawnGpu = create([`backend=${backend}`]);
      dawn.push(dawnGpu);
      // TF.js asks for an adapter without a feature level; OpenGL offers only compat.
      const featureLevel = backend.startsWith('opengl') ? 'compatibility' : 'core';
      const gpu = {
        requestAdapter: (o?: GPURequestAdapterOptions) => dawnGpu.requestAdapter({ ...o, featureLevel } as GPURequestAdapterOptions),
        getPreferredCanvasFormat: () => 'rgba8unorm',
        wgslLanguageFeatures: dawnGpu.wgslLanguageFeatures,
      };
      Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
      await import('@tensorflow/tfjs-backend-webgpu');
    }
  } else if (!tf.findBackend('wasm')) {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const dir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json'));
    wasm.setWasmPaths(join(dir, 'dist') + '/');
  }
  if (!(await tf.setBackend(kind))) throw new Error(`tf.setBackend('${kind}') failed`);
  await tf.ready();
  return tf;
}

/** A peer step, or a string saying why the peer could not start. */
export async function tfjsPeer(kind: 'webgpu' | 'wasm', backend: string, cfg: MlpConfig, x: Float32Array, y: Uint32Array): Promise<PeerStep | string> {
  let tf: Awaited<ReturnType<typeof loadTf>>;
  try {
    tf = await loadTf(kind, backend);
  } catch (e) {
    return `unavailable (${(e as Error).message.split('\n')[0]})`;
  }
  const B = y.length;
  const dims = [cfg.inputDim, ...cfg.hidden, cfg.classes];
  const vars = dims.slice(1).flatMap((dout, l) => {
    const bound = 1 / Math.sqrt(dims[l]);
    return [tf.variable(tf.randomUniform([dout, dims[l]], -bound, bound)), tf.variable(tf.randomUniform([dout], -bound, bound))];
  });
  const { lr, momentum, weightDecay } = PAPER;
  const opt = tf.train.momentum(lr, momentum);
  const onehot = tf.oneHot(tf.tensor1d(Array.from(y), 'int32'), cfg.classes);
  const step = async (sync = false) => {
    const loss = tf.tidy(() => {
      const xs = tf.tensor2d(x, [B, cfg.inputDim]); // a fresh upload per step, as ours does
      const { value, grads } = tf.variableGrads(() => {
        let h: any = xs;
        for (let l = 0; l < vars.length; l += 2) {
          h = tf.add(tf.matMul(h, vars[l], false, true), vars[l + 1]);
          if (l < vars.length - 2) h = tf.relu(h);
        }
        return tf.losses.softmaxCrossEntropy(onehot, h) as any;
      });
      const decayed: Record<string, any> = {};
      for (const v of vars) decayed[v.name] = tf.add(grads[v.name], tf.mul(v, weightDecay));
      opt.applyGradients(decayed);
      return value;
    });
    if (sync) await loss.data();
    loss.dispose();
  };
  return { step, dispose: () => { for (const v of vars) v.dispose(); onehot.dispose(); opt.dispose(); } };
}

const PAPER = { lr: 0.02, momentum: 0.5, weightDecay: 5e-4 };
