// The ResNets without a GPU: parameter counts against SPEC 3.2–3.4, PyTorch's tensor names and
// order, the initialisation's statistics, the running-statistics layouts, bad configs, and the
// float64 reference backward against central finite differences (BN-free ResNet8, a shallow
// ResNet32 with BN in train and eval mode, a narrow ResNet18 with its max pool and downsample).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  resnet8, resnet32, resnet18, resnetConfig, resnetArch, resnetLayout, initResNetParams, runningLayout, bufferLayout,
  initRunning, runningToBuffers, buffersToRunning, type ResNetArch,
} from '../../src/models/resnet.ts';
import { resnetForwardRef, resnetBackwardRef, meanXentRef, type BnMode } from '../../src/reference/resnet.ts';
import { gradcheck } from '../helpers/gradcheck.ts';
import { Rng } from '../../src/util/rng.ts';

test('parameter counts match SPEC 3.2–3.4 (ResNet8 74,810; ResNet32/100 470,004; ResNet18 11,689,512)', () => {
  assert.is(resnetLayout(resnetArch(resnet8())).count, 74810);
  assert.is(resnetLayout(resnetArch(resnet32())).count, 470004);
  // torchvision's resnet18(): "about 11.7M" in SPEC 3.4, 11,689,512 exactly
  assert.is(resnetLayout(resnetArch(resnet18())).count, 11689512);
});

test('tensor names are PyTorch module names, in named_parameters order', () => {
  const names8 = resnetLayout(resnetArch(resnet8())).entries.map((e) => e.name);
  assert.equal(names8, [
    'conv1.weight', 'layer1.0.conv1.weight', 'layer1.0.conv2.weight', 'layer2.0.conv1.weight', 'layer2.0.conv2.weight',
    'layer3.0.conv1.weight', 'layer3.0.conv2.weight', 'linear.weight', 'linear.bias',
  ]);
  const l32 = resnetLayout(resnetArch(resnet32()));
  assert.equal(l32.entries.slice(0, 6).map((e) => e.name), ['conv1.weight', 'bn1.weight', 'bn1.bias', 'layer1.0.conv1.weight', 'layer1.0.bn1.weight', 'layer1.0.bn1.bias']);
  assert.equal(l32.entry('layer3.4.bn2.bias').shape, [64]);
  assert.equal(l32.entry('linear.weight').shape, [100, 64]);
  const l18 = resnetLayout(resnetArch(resnet18()));
  assert.is(l18.entries.length, 62);
  assert.equal(l18.entry('layer2.0.downsample.0.weight').shape, [128, 64, 1, 1]);
  assert.equal(l18.entry('layer2.0.downsample.1.weight').shape, [128]);
  assert.equal(l18.entry('conv1.weight').shape, [64, 3, 7, 7]);
  assert.equal(l18.entry('fc.weight').shape, [1000, 512]);
  assert.throws(() => l18.entry('layer1.0.downsample.0.weight'), /no tensor/);
  const a18 = resnetArch(resnet18());
  assert.is(a18.convs.length, 20);
  assert.equal([a18.feat.C, a18.feat.H, a18.feat.W], [512, 7, 7]);
  assert.is(resnetArch(resnet32()).convs.length, 31);
  assert.equal(resnetArch(resnet8()).bns, []);
});

test('running statistics: PyTorch buffer names, fresh mean 0 / var 1, packed ↔ named round trip', () => {
  const arch = resnetArch(resnet32({ blocks: [1, 2, 1] }));
  const names = bufferLayout(arch).entries.map((e) => e.name);
  assert.equal(names.slice(0, 4), ['bn1.running_mean', 'bn1.running_var', 'layer1.0.bn1.running_mean', 'layer1.0.bn1.running_var']);
  const named = runningToBuffers(arch, initRunning(arch));
  const bl = bufferLayout(arch);
  for (const b of arch.bns) {
    assert.ok(bl.split(named).get(`${b.name}.running_mean`)!.every((v) => v === 0), b.name);
    assert.ok(bl.split(named).get(`${b.name}.running_var`)!.every((v) => v === 1), b.name);
  }
  const rng = new Rng(3);
  const packed = initRunning(arch);
  const lay = runningLayout(arch);
  for (const b of arch.bns) {
    const e = lay.entry(`${b.name}.running`);
    for (let i = 0; i < 2 * b.C; i++) packed[e.offset + i] = rng.uniform();
  }
  assert.equal(Array.from(buffersToRunning(arch, runningToBuffers(arch, packed))), Array.from(packed));
  assert.throws(() => runningToBuffers(arch, new Float32Array(3)), /expected/);
});

function sampleStd(a: ArrayLike<number>): { mean: number; std: number } {
  let s = 0, q = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  const mean = s / a.length;
  for (let i = 0; i < a.length; i++) q += (a[i] - mean) ** 2;
  return { mean, std: Math.sqrt(q / a.length) };
}

test('init: Kaiming-normal fan_in (CIFAR), fan_out (torchvision), Linear defaults, BN γ=1 β=0', () => {
  const a8 = resnetArch(resnet8());
  const p8 = resnetLayout(a8).split(initResNetParams(a8, new Rng(1)));
  for (const c of a8.convs) {
    const { mean, std } = sampleStd(p8.get(`${c.name}.weight`)!);
    const want = Math.sqrt(2 / (c.Cin * c.k * c.k));
    assert.ok(Math.abs(std / want - 1) < 0.12 && Math.abs(mean) < 0.2 * want, `${c.name}: std ${std} want ${want}, mean ${mean}`);
  }
  const lw = sampleStd(p8.get('linear.weight')!);
  assert.ok(Math.abs(lw.std / Math.sqrt(2 / 64) - 1) < 0.1, `linear.weight std ${lw.std}`);
  const lb = p8.get('linear.bias')!;
  assert.ok(lb.every((v) => Math.abs(v) <= 1 / 8) && lb.some((v) => v !== 0), 'linear.bias in U(±1/√64)');

  const a18 = resnetArch(resnet18({ width: 0.25, classes: 37, H: 32 }));
  const l18 = resnetLayout(a18);
  const p18 = l18.split(initResNetParams(a18, new Rng(2)));
  for (const c of [a18.convs[0], a18.convs.at(-2)!, a18.convs.at(-1)!]) {
    const { std } = sampleStd(p18.get(`${c.name}.weight`)!);
    const want = Math.sqrt(2 / (c.Cout * c.k * c.k));
    assert.ok(Math.abs(std / want - 1) < 0.1, `${c.name}: std ${std} want ${want} (fan_out)`);
  }
  const bound = 1 / Math.sqrt(a18.head.din);
  const fw = p18.get('fc.weight')!;
  assert.ok(fw.every((v) => Math.abs(v) <= bound), 'fc.weight within U(±1/√fan_in)');
  assert.ok(Math.abs(sampleStd(fw).std / (bound / Math.sqrt(3)) - 1) < 0.1, 'fc.weight std of a uniform');
  for (const b of a18.bns) {
    assert.ok(p18.get(`${b.name}.weight`)!.every((v) => v === 1), `${b.name}.weight = 1`);
    assert.ok(p18.get(`${b.name}.bias`)!.every((v) => v === 0), `${b.name}.bias = 0`);
  }
});

test('bad configs fail with one clear error', () => {
  assert.throws(() => resnetArch({ ...resnet8(), widths: [16, 48, 64] }), /option-A shortcut maps 16 channels to 40/);
  assert.throws(() => resnetArch({ ...resnet8(), classes: 0 }), /positive integers/);
  assert.throws(() => resnetArch({ ...resnet8(), blocks: [1, 1] }), /equal length/);
  assert.throws(() => resnetConfig('resnet50'), /unknown model 'resnet50'/);
  assert.throws(() => resnet18({ width: 0 }), /width multiplier/);
});

/** Random parameters (BN γ, β and running stats away from their init so every term counts). */
function randomState(arch: ResNetArch, seed: number) {
  const rng = new Rng(seed);
  const layout = resnetLayout(arch);
  const flat = initResNetParams(arch, rng);
  const params = new Map([...layout.split(flat)].map(([k, v]) => [k, Float64Array.from(v)]));
  for (const b of arch.bns) {
    params.set(`${b.name}.weight`, Float64Array.from({ length: b.C }, () => 0.5 + rng.uniform()));
    params.set(`${b.name}.bias`, Float64Array.from({ length: b.C }, () => rng.uniform() - 0.5));
  }
  const running = new Map(arch.bns.map((b) => [`${b.name}.running`, Float64Array.from({ length: 2 * b.C }, (_, i) => (i < b.C ? rng.uniform() - 0.5 : 0.5 + 1.5 * rng.uniform()))]));
  const { C, H, W } = arch.cfg.input;
  const B = 2;
  const x = Float64Array.from({ length: B * C * H * W }, () => 2 * rng.uniform() - 1);
  const y = Uint32Array.from({ length: B }, () => rng.int(arch.cfg.classes));
  return { params, running, x, y, B, rng };
}

/** Central differences of the mean loss on 2 random coordinates of every parameter tensor. */
function checkReference(arch: ResNetArch, mode: BnMode, seed: number): void {
  const { params, running, x, y, B, rng } = randomState(arch, seed);
  const K = arch.cfg.classes;
  const fwd = resnetForwardRef(arch, params, running, x, B, mode);
  const { dlogits } = meanXentRef(fwd.logits, y, B, K);
  const { grads } = resnetBackwardRef(arch, params, running, fwd, dlogits);
  assert.equal([...grads.keys()].sort(), [...params.keys()].sort(), 'a gradient for every parameter');
  for (const [name, p] of params) {
    const idx = [...new Set(Array.from({ length: 2 }, () => rng.int(p.length)))]; // distinct coordinates
    const loss = (v: number[]) => {
      const q = new Map(params);
      const t = Float64Array.from(p);
      idx.forEach((i, j) => { t[i] = v[j]; });
      q.set(name, t);
      return meanXentRef(resnetForwardRef(arch, q, running, x, B, mode).logits, y, B, K).loss;
    };
    gradcheck(loss, idx.map((i) => p[i]), idx.map((i) => grads.get(name)![i]), `${mode} ${name}`, 1e-5, 1e-6);
  }
}

test('float64 reference backward of a tiny BN-free ResNet8 matches central differences', () => {
  checkReference(resnetArch(resnet8({ H: 8, classes: 3 })), 'train', 11);
});

test('float64 reference backward of a shallow ResNet32 (BN) matches central differences, train and eval mode', () => {
  const arch = resnetArch(resnet32({ blocks: [1, 1, 1], H: 8, classes: 5 }));
  checkReference(arch, 'train', 12);
  checkReference(arch, 'eval', 13);
});

test('float64 reference backward of a narrow ResNet18 (max pool, downsample) matches central differences', () => {
  checkReference(resnetArch(resnet18({ width: 1 / 16, H: 16, classes: 3 })), 'train', 14);
});

test('train mode updates running statistics with momentum 0.1 and unbiased variance; eval leaves them', () => {
  const arch = resnetArch(resnet32({ blocks: [1, 1, 1], H: 8, classes: 3 }));
  const { params, running, x, B } = randomState(arch, 21);
  const tr = resnetForwardRef(arch, params, running, x, B, 'train');
  const st = tr.tape.bn.get('bn1')!;
  const old = running.get('bn1.running')!, now = tr.running.get('bn1.running')!;
  const C = 16, n = B * 8 * 8;
  for (let c = 0; c < C; c++) {
    assert.ok(Math.abs(now[c] - (0.9 * old[c] + 0.1 * st.mean[c])) < 1e-12, 'running_mean');
    const varBiased = 1 / st.invstd[c] ** 2 - 1e-5;
    assert.ok(Math.abs(now[C + c] - (0.9 * old[C + c] + 0.1 * varBiased * n / (n - 1))) < 1e-9, 'running_var');
  }
  const ev = resnetForwardRef(arch, params, running, x, B, 'eval');
  assert.equal(Array.from(ev.running.get('bn1.running')!), Array.from(old));
});

test.run();
