// The MLP on the GPU: one and two SGD steps equal a float64 reference; a short MNIST run
// learns; a run of 2N iterations equals N + resumed N bit for bit; a corrupt IDX file and
// a diverging run fail with one clear error and keep what was written before.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, existsSync, readdirSync, writeFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGpu } from '../helpers/gpu.ts';
import { assertClose } from '../helpers/close.ts';
import { MlpTrainer, PAPER_MNIST_SGD } from '../../src/run/mlp_trainer.ts';
import { initMlpParams, mlpLayers, type MlpConfig } from '../../src/models/mlp.ts';
import { mlpForwardRef, mlpBackwardRef, xentRef, sgdRef, type RefLayer } from '../../src/reference/mlp.ts';
import { Rng } from '../../src/util/rng.ts';
import { trainMnistMlp, TrainingDiverged } from '../../src/run/train_mnist.ts';
import { parseTrainConfig } from '../../src/run/train_config.ts';
import { mnistPackageDir } from '../../src/data/mnist_node.ts';
import { MNIST_FILES } from '../../src/data/mnist.ts';
import { decodeSafetensors } from '../../src/io/safetensors.ts';

const quiet = () => {};

function cfgFor(out: string, over: Record<string, unknown> = {}) {
  return parseTrainConfig({
    iters: '40', hidden: '32', lr: '0.05', momentum: '0.5', weightDecay: '5e-4', batch: '64', milestones: '', lrDecay: '0.1',
    labelSmoothing: '0', evalEvery: '20', logEvery: '5', ckptEvery: '10', out, resume: false, seed: '3',
    trainSubset: '2000', testSubset: '500', progress: false, ...over,
  });
}

test('two SGD steps of a small MLP on the GPU equal the float64 reference (momentum, weight decay)', async () => {
  const { sched } = await testGpu();
  const cfg: MlpConfig = { inputDim: 13, hidden: [9, 7], classes: 5 };
  const hyper = { ...PAPER_MNIST_SGD, lr: 0.1, momentum: 0.9, weightDecay: 0.01 };
  const trainer = new MlpTrainer(sched, cfg, hyper);
  const rng = new Rng(17);
  const flat = initMlpParams(cfg, rng);
  trainer.loadParams(flat);
  const layout = trainer.model.layout;
  const layers: RefLayer[] = mlpLayers(cfg).map((L) => ({
    din: L.din, dout: L.dout,
    W: Float64Array.from(layout.split(flat).get(`${L.name}.weight`)!),
    b: Float64Array.from(layout.split(flat).get(`${L.name}.bias`)!),
  }));
  let bufs: Array<{ W: Float64Array | null; b: Float64Array | null }> = layers.map(() => ({ W: null, b: null }));
  for (let step = 0; step < 2; step++) {
    const B = 11;
    const x = rng.uniformArray(B * cfg.inputDim);
    const y = Uint32Array.from({ length: B }, () => rng.int(cfg.classes));
    trainer.step(x, y, step);
    const acts = mlpForwardRef(layers, x, B);
    const { dlogits, loss } = xentRef(acts.at(-1)!, y, B, cfg.classes);
    const grads = mlpBackwardRef(layers, acts, dlogits, B);
    bufs = layers.map((L, l) => ({
      W: sgdRef(L.W, grads[l].dW, bufs[l].W, hyper),
      b: sgdRef(L.b, grads[l].db, bufs[l].b, hyper),
    }));
    assert.ok(Math.abs((await trainer.lastBatch()).loss - loss) < 1e-5, 'batch loss');
    const got = layout.split(await trainer.readParams());
    mlpLayers(cfg).forEach((L, l) => {
      assertClose(got.get(`${L.name}.weight`)!, layers[l].W, { atol: 2e-6, rtol: 1e-5 }, `step ${step + 1} ${L.name}.weight`);
      assertClose(got.get(`${L.name}.bias`)!, layers[l].b, { atol: 2e-6, rtol: 1e-5 }, `step ${step + 1} ${L.name}.bias`);
    });
  }
  trainer.destroy();
});

test('a short MNIST run learns (≥ 90% test accuracy, hidden 64)', async () => {
  const { gpu } = await testGpu();
  const out = mkdtempSync(join(tmpdir(), 'gradvar-learn-'));
  const r = await trainMnistMlp(cfgFor(out, { iters: '300', hidden: '64', batch: '128', trainSubset: '20000', testSubset: '2000', evalEvery: '300', ckptEvery: '300', logEvery: '50' }), quiet, gpu);
  assert.ok(r.test.acc >= 0.9, `test accuracy ${r.test.acc}`);
  const log = readFileSync(r.log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(log.map((e) => e.iter), [50, 100, 150, 200, 250, 300]);
  assert.ok(log[5].loss < log[0].loss, 'loss decreases');
});

test('2N iterations in one run equal N, then --resume to 2N, bit for bit (params, momenta, log)', async () => {
  const { gpu } = await testGpu();
  const a = mkdtempSync(join(tmpdir(), 'gradvar-a-'));
  const b = mkdtempSync(join(tmpdir(), 'gradvar-b-'));
  await trainMnistMlp(cfgFor(a, { iters: '40' }), quiet, gpu);
  await trainMnistMlp(cfgFor(b, { iters: '20' }), quiet, gpu);
  await trainMnistMlp(cfgFor(b, { iters: '40', resume: true }), quiet, gpu);
  const fa = decodeSafetensors(readFileSync(join(a, 'checkpoint.safetensors')));
  const fb = decodeSafetensors(readFileSync(join(b, 'checkpoint.safetensors')));
  assert.equal([...fa.tensors.keys()], [...fb.tensors.keys()]);
  for (const [name, t] of fa.tensors) {
    assert.equal(Array.from(fb.tensors.get(name)!.data as Float32Array), Array.from(t.data as Float32Array), name);
  }
  const strip = (p: string) => readFileSync(p, 'utf8').trim().split('\n').map((l) => { const { time_s, ...rest } = JSON.parse(l); return rest; });
  assert.equal(strip(join(b, 'log.jsonl')), strip(join(a, 'log.jsonl')));
});

test('a truncated IDX file gives one clear error naming it, and writes nothing', async () => {
  const { gpu } = await testGpu();
  const data = mkdtempSync(join(tmpdir(), 'gradvar-data-'));
  for (const f of [MNIST_FILES.train.images, MNIST_FILES.train.labels, MNIST_FILES.test.images, MNIST_FILES.test.labels]) {
    copyFileSync(join(mnistPackageDir(), f), join(data, f));
  }
  const bytes = readFileSync(join(data, MNIST_FILES.train.images));
  writeFileSync(join(data, MNIST_FILES.train.images), bytes.subarray(0, 5000));
  const out = join(mkdtempSync(join(tmpdir(), 'gradvar-out-')), 'run');
  try {
    await trainMnistMlp(cfgFor(out, { data }), quiet, gpu);
    assert.unreachable('expected a DataError');
  } catch (e) {
    assert.is((e as Error).name, 'DataError');
    assert.match((e as Error).message, new RegExp(`${MNIST_FILES.train.images}.*truncated`));
  }
  assert.not.ok(existsSync(out), 'nothing written');
});

test('a diverging run stops naming the iteration and keeps the last good checkpoint', async () => {
  const { gpu } = await testGpu();
  const out = mkdtempSync(join(tmpdir(), 'gradvar-nan-'));
  mkdirSync(out, { recursive: true });
  // lr 1e3 blows up within a few steps; checkpoints every 1 iteration before that.
  try {
    await trainMnistMlp(cfgFor(out, { lr: '1000', iters: '200', ckptEvery: '1', logEvery: '1', evalEvery: '1000' }), quiet, gpu);
    assert.unreachable('expected divergence');
  } catch (e) {
    assert.instance(e, TrainingDiverged);
    assert.match((e as Error).message, /at iteration \d+/);
    assert.match((e as Error).message, /last good checkpoint \(iteration \d+\)/);
  }
  const ck = decodeSafetensors(readFileSync(join(out, 'checkpoint.safetensors')));
  for (const t of ck.tensors.values()) assert.ok((t.data as Float32Array).every(Number.isFinite), 'checkpoint is finite');
  assert.equal(readdirSync(out).filter((f) => f.includes('.tmp')), []);
});

test.run();
