// The ResNets on the GPU against the float64 reference (src/reference/resnet.ts, itself checked
// by finite differences in test/unit/resnet_layout.test.ts): logits, per-example loss, every
// parameter gradient, every clustered layer's factors (A, G) and the BN running statistics, for
// a BN-free ResNet8, a shallow ResNet32 with BN in train and in eval mode, and ResNet18 at its
// real widths on 16×16 inputs; one SGD step; paramGrads: false; sibling engines.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testGpu } from '../helpers/gpu.ts';
import { assertClose } from '../helpers/close.ts';
import { resnet8, resnet32, resnet18, resnetArch, initResNetParams, type ResNetConfig } from '../../src/models/resnet.ts';
import { ResNet } from '../../src/models/resnet_net.ts';
import { ResNetGrad, createResNetEngine } from '../../src/run/resnet_grad.ts';
import { Trainer } from '../../src/run/trainer.ts';
import { resnetForwardRef, resnetBackwardRef, meanXentRef, type BnMode } from '../../src/reference/resnet.ts';
import { sgdRef } from '../../src/reference/mlp.ts';
import { Rng } from '../../src/util/rng.ts';
import type { View } from '../../src/kernels/kernel.ts';

/** A model with random parameters: PyTorch's init, then BN γ ∈ [0.5, 1.5), β ∈ [−0.5, 0.5) and
 *  running statistics away from (0, 1), so every BN term is exercised. */
async function setup(cfg: ResNetConfig, seed: number, B = 3) {
  const { sched } = await testGpu();
  const model = new ResNet(sched, cfg);
  const grad = new ResNetGrad(sched, model);
  const rng = new Rng(seed);
  const flat = initResNetParams(model.arch, rng);
  const named = model.layout.split(flat);
  for (const b of model.arch.bns) {
    named.set(`${b.name}.weight`, Float32Array.from({ length: b.C }, () => 0.5 + rng.uniform()));
    named.set(`${b.name}.bias`, Float32Array.from({ length: b.C }, () => rng.uniform() - 0.5));
  }
  const params = model.layout.join(named);
  const running = new Float32Array(model.runLayout.total);
  for (const b of model.arch.bns) {
    const at = model.runLayout.entry(`${b.name}.running`).offset;
    for (let c = 0; c < b.C; c++) {
      running[at + c] = rng.uniform() - 0.5;
      running[at + b.C + c] = 0.5 + 1.5 * rng.uniform();
    }
  }
  sched.upload(model.params, params);
  sched.upload(model.running, running);
  const x = rng.uniformArray(B * model.inputSize, -1, 1);
  const y = Uint32Array.from({ length: B }, () => rng.int(cfg.classes));
  const f64 = (m: Map<string, Float32Array>) => new Map([...m].map(([k, v]) => [k, Float64Array.from(v)]));
  const refRunning = f64(model.runLayout.split(running));
  return { sched, model, grad, params, running, refParams: f64(model.layout.split(params)), refRunning, x, y, B, rng };
}

type Setup = Awaited<ReturnType<typeof setup>>;

function reference(s: Setup, mode: BnMode) {
  const { model, refParams, refRunning, x, y, B } = s;
  const fwd = resnetForwardRef(model.arch, refParams, refRunning, x, B, mode);
  const xent = meanXentRef(fwd.logits, y, B, model.cfg.classes);
  return { fwd, xent, back: resnetBackwardRef(model.arch, refParams, refRunning, fwd, xent.dlogits) };
}

/** Tolerance for a float32 result of a deep composition: relative to the tensor's scale. */
function tolFor(want: ArrayLike<number>, rel = 2e-4) {
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(want[i]));
  return { atol: rel * m + 1e-7, rtol: 2e-3 };
}

/** Reads several views with one readback (one wait): each is copied into its 64-aligned slot
 *  of a scratch buffer first. */
async function readMany(sched: Setup['sched'], views: View[]): Promise<Float32Array[]> {
  const at: number[] = [];
  let n = 0;
  for (const v of views) { at.push(n); n += Math.ceil(v.length / 64) * 64; }
  const all = sched.alloc(n, 'test.readMany');
  views.forEach((v, i) => sched.copy(v, { buffer: all.buffer, offset: at[i], length: v.length }));
  const flat = await sched.read(all);
  sched.free(all);
  return views.map((v, i) => flat.subarray(at[i], at[i] + v.length));
}

/** compute() once in `mode`, then every output against the reference. */
async function checkAgainstReference(cfg: ResNetConfig, mode: BnMode, seed: number, what: string, B = 3): Promise<void> {
  const s = await setup(cfg, seed, B);
  const { sched, model, grad } = s;
  grad.setMode(mode);
  const io = grad.compute(s.x, s.y);
  const ref = reference(s, mode);
  const K = cfg.classes, head = model.arch.head.name;
  const logits = await sched.read(model.workspace(B).get(`${head}.logits`, B * K));
  assertClose(logits, ref.fwd.logits, tolFor(ref.fwd.logits), `${what}: logits`);
  const loss = await sched.read(io.loss);
  assertClose([loss.reduce((a, b) => a + b, 0) / B], [ref.xent.loss], { atol: 1e-5, rtol: 1e-4 }, `${what}: mean loss`);
  const grads = model.layout.split(await sched.read(model.grads));
  for (const e of model.layout.entries) {
    const want = ref.back.grads.get(e.name)!;
    assertClose(grads.get(e.name)!, want, tolFor(want), `${what}: d ${e.name}`);
  }
  const factors = await readMany(sched, grad.clustered.flatMap((_, l) => { const f = grad.layerFactors(B, l); return [f.A, f.G]; }));
  grad.clustered.forEach((L, l) => {
    const want = ref.back.factors.get(L.name)!;
    assertClose(factors[2 * l], want.A, tolFor(want.A), `${what}: factor A of ${L.name}`);
    assertClose(factors[2 * l + 1], want.G, tolFor(want.G), `${what}: factor G of ${L.name}`);
  });
  const run = model.runLayout.split(await sched.read(model.running));
  for (const [name, want] of ref.fwd.running) assertClose(run.get(name)!, want, { atol: 1e-5, rtol: 1e-4 }, `${what}: ${name}`);
  grad.destroy();
  model.destroy();
}

test('ResNet8 (no BN, 3×8×8, B=3, 7 classes): logits, loss, every gradient and factor equal the float64 reference', async () => {
  await checkAgainstReference(resnet8({ H: 8, classes: 7 }), 'train', 1, 'resnet8');
});

test('shallow ResNet32 with BN in train mode: outputs, gradients, factors, updated running stats', async () => {
  await checkAgainstReference(resnet32({ blocks: [1, 1, 1], H: 8, classes: 5 }), 'train', 2, 'resnet32/train');
});

test('shallow ResNet32 with BN in eval mode: running statistics used and left unchanged', async () => {
  await checkAgainstReference(resnet32({ blocks: [1, 2, 1], H: 8, classes: 5 }), 'eval', 3, 'resnet32/eval');
});

// B=5: at 16×16 input layer3 and layer4 run at 1×1, so train-mode BN normalises B values per
// channel; with B=3 its backward amplifies float32 rounding past any fixed tolerance (eval mode
// and B ≥ 5 agree to ~1e-4), an ill-conditioning of the function, not of the kernels.
test('ResNet18 (real widths, 3×16×16, B=5, 3 classes): max pool, downsample conv+BN, fc', async () => {
  await checkAgainstReference(resnet18({ H: 16, classes: 3 }), 'train', 4, 'resnet18', 5);
});

test('one SGD step (momentum 0.9, weight decay) equals the float64 reference step', async () => {
  const s = await setup(resnet32({ blocks: [1, 1, 1], H: 8, classes: 5 }), 5);
  const hyper = { lr: 0.1, momentum: 0.9, weightDecay: 5e-4, milestones: [], lrDecay: 0.1, labelSmoothing: 0 };
  const trainer = new Trainer(s.sched, s.grad, hyper);
  trainer.step(s.x, s.y, 0);
  const ref = reference(s, 'train');
  const got = s.model.layout.split(await trainer.readParams());
  for (const [name, p] of s.refParams) {
    const want = Float64Array.from(p);
    sgdRef(want, ref.back.grads.get(name)!, null, hyper);
    const step = Float64Array.from(want, (v, i) => v - p[i]);
    assertClose(got.get(name)!.map((v, i) => v - p[i]), step, tolFor(step, 5e-4), `stepped ${name}`);
  }
  trainer.destroy();
  s.model.destroy();
});

test('paramGrads: false leaves grads untouched and gives the same layer factors', async () => {
  for (const cfg of [resnet8({ H: 8, classes: 3 }), resnet32({ blocks: [1, 1, 1], H: 8, classes: 3 })]) {
    const s = await setup(cfg, 6);
    const { sched, model, grad, B } = s;
    const sentinel = Float32Array.from({ length: model.layout.total }, (_, i) => (i % 7) - 3);
    sched.upload(model.grads, sentinel);
    grad.compute(s.x, s.y, { paramGrads: false });
    assert.equal(Array.from(await sched.read(model.grads)), Array.from(sentinel), 'grads untouched');
    const factorViews = () => grad.clustered.flatMap((_, l) => { const f = grad.layerFactors(B, l); return [f.A, f.G]; });
    const without = await readMany(sched, factorViews());
    grad.compute(s.x, s.y);
    assert.not.equal(Array.from(await sched.read(model.grads)), Array.from(sentinel), 'grads written with paramGrads');
    const withGrads = await readMany(sched, factorViews());
    withGrads.forEach((f, i) => assert.equal(Array.from(f), Array.from(without[i]), `${'AG'[i % 2]} of ${grad.clustered[i >> 1].name}`));
    grad.destroy();
    model.destroy();
  }
});

test('a sibling() has its own parameters, gradients and running statistics', async () => {
  const s = await setup(resnet32({ blocks: [1, 1, 1], H: 8, classes: 3 }), 7);
  const { sched, model, grad } = s;
  const sib = grad.sibling();
  for (const k of ['params', 'grads', 'momenta', 'running'] as const) assert.ok(sib.model[k].buffer !== model[k].buffer, k);
  assert.is(sib.clustered.length, grad.clustered.length);
  sched.upload(sib.model.params, s.params.map((v) => 2 * v));
  grad.compute(s.x, s.y);
  const mine = await sched.read(model.grads);
  sib.compute(s.x, s.y);
  assert.equal(Array.from(await sched.read(model.grads)), Array.from(mine), 'the sibling writes its own grads');
  assert.equal(Array.from(await sched.read(model.params)), Array.from(s.params), 'and reads its own params');
  assert.not.equal(Array.from(await sched.read(sib.model.grads)), Array.from(mine));
  sib.destroy();
  grad.destroy();
  model.destroy();
});

test('repeated compute() creates no buffers, pipelines or bind groups; destroy() returns every buffer', async () => {
  const { sched } = await testGpu();
  const live0 = sched.pool.stats().live;
  const s = await setup(resnet32({ blocks: [1, 1, 1], H: 8, classes: 3 }), 9);
  const cycle = async () => {
    for (const mode of ['train', 'eval'] as const) {
      s.grad.setMode(mode);
      s.grad.compute(s.x, s.y);
      s.grad.compute(s.x, s.y, { paramGrads: false });
    }
    await sched.read(s.grad.buffers(s.B).loss);
  };
  await cycle();
  const pool0 = sched.pool.stats(), pipes0 = sched.pipelines.created, bgs0 = sched.bindGroupCount;
  await cycle();
  await cycle();
  assert.is(sched.pool.stats().created, pool0.created, 'buffers created');
  assert.is(sched.pool.stats().bytes, pool0.bytes, 'bytes held');
  assert.is(sched.pipelines.created, pipes0, 'pipelines created');
  assert.is(sched.bindGroupCount, bgs0, 'bind groups created');
  s.grad.destroy();
  s.model.destroy();
  assert.is(sched.pool.stats().live, live0, 'every buffer released');
});

test('createResNetEngine builds an initialised engine at the data shape; an unknown arch fails clearly', async () => {
  const { sched } = await testGpu();
  const { engine, describe } = createResNetEngine(sched, 'resnet8', { channels: 1, height: 12, width: 12, classes: 5 }, new Rng(10));
  assert.is(engine.inputSize, 144);
  assert.match(describe, /resnet8 \(no BN, input 1×12×12, 5 classes\)/);
  const rng = new Rng(11);
  const io = engine.compute(rng.uniformArray(3 * 144, -1, 1), Uint32Array.from([0, 4, 2]));
  const loss = await sched.read(io.loss);
  assert.ok(loss.every((v) => Number.isFinite(v) && v > 0), `finite positive losses ${loss}`);
  assert.ok((await sched.read(engine.model.params)).some((v) => v !== 0), 'parameters initialised');
  engine.destroy();
  assert.throws(() => createResNetEngine(sched, 'resnet9', { channels: 3, height: 8, width: 8, classes: 3 }, new Rng(1)), /unknown model 'resnet9'/);
});

test('saveState/loadState carry the BN running statistics (what --resume needs beyond the parameters)', async () => {
  const s = await setup(resnet32({ blocks: [1, 1, 1], H: 8, classes: 3 }), 12);
  const { sched, model, grad } = s;
  grad.setMode('train');
  grad.compute(s.x, s.y); // updates the running statistics
  const saved = await grad.saveState();
  const running = await sched.read(model.running);
  assert.equal(Array.from(saved.tensors['bn.running']), Array.from(running));
  const sib = grad.sibling();
  assert.not.equal(Array.from(await sched.read(sib.model.running)), Array.from(running), 'a sibling starts fresh');
  sib.loadState(saved);
  assert.equal(Array.from(await sched.read(sib.model.running)), Array.from(running));
  assert.throws(() => sib.loadState({ meta: null, tensors: { 'bn.running': new Float32Array(3) } }), /'bn.running' must hold/);
  sib.destroy();
  grad.destroy();
  model.destroy();
});

test('bad inputs fail with one clear error', async () => {
  const s = await setup(resnet8({ H: 8, classes: 3 }), 8);
  assert.throws(() => s.grad.compute(s.x.subarray(1), s.y), /x holds/);
  assert.throws(() => s.grad.layerFactors(5, 0), /no factors at batch size 5/);
  assert.throws(() => s.grad.setMode('test' as BnMode), /mode must be/);
  assert.throws(() => resnetArch({ ...resnet8(), input: { C: 3, H: 0, W: 8 } }), /positive integers/);
  s.grad.destroy();
  s.model.destroy();
});

test.run();
