// `gradvar run <dataset>` flags: presets per dataset and architecture, overrides, and one
// clear line for every bad value.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gvarRunConfig, PRESETS } from '../../src/run/gvar_config.ts';

const fails = (f: () => unknown, re: RegExp) => {
  try {
    f();
  } catch (e) {
    assert.is((e as Error).name, 'UsageError');
    assert.match((e as Error).message, re);
    assert.not.match((e as Error).message, /\n/);
    return;
  }
  assert.unreachable(`no error (expected ${re})`);
};

test('each dataset picks its default architecture and preset', () => {
  assert.is(gvarRunConfig('default', {}).arch, 'mlp');
  assert.equal(gvarRunConfig('paper', {}).hidden, [1024, 1024]);
  const r8 = gvarRunConfig('default', {}, {}, 'mnist', 'resnet8');
  assert.equal([r8.arch, r8.dataset, r8.exact, r8.augment], ['resnet8', 'mnist', false, false]);
  const c10 = gvarRunConfig('paper', { dataDir: '/data' }, {}, 'cifar10');
  assert.equal([c10.arch, c10.lr, c10.momentum, c10.milestones, c10.iters, c10.gcIters, c10.augment], ['resnet8', 0.01, 0.9, [40000, 60000], 80000, 3, true]);
  const c100 = gvarRunConfig('paper', { dataDir: '/data' }, {}, 'cifar100');
  assert.equal([c100.arch, c100.lr, c100.duplicate, c100.gcIters], ['resnet32', 0.1, [10, 10000], 10]);
  for (const [k, p] of Object.entries(PRESETS)) assert.is(`${p.default.dataset}/${p.default.arch}`, k);
});

test('manipulation flags parse into the config', () => {
  const c = gvarRunConfig('default', { duplicate: '10,2000', corruptPerc: '20', labelSmoothing: '0.1', milestones: '100,200', momentum: '0.9', weightDecay: '1e-4' });
  assert.equal([c.duplicate, c.corruptPerc, c.labelSmoothing, c.milestones, c.momentum, c.weightDecay], [[10, 2000], 20, 0.1, [100, 200], 0.9, 1e-4]);
});

test('bad values give one line naming the flag', () => {
  fails(() => gvarRunConfig('default', { duplicate: '10' }), /^--duplicate must be 'num,copies'/);
  fails(() => gvarRunConfig('default', { corruptPerc: '120' }), /^--corrupt-perc must be ≤ 100/);
  fails(() => gvarRunConfig('default', { labelSmoothing: '1' }), /^--label-smoothing must be < 1/);
  fails(() => gvarRunConfig('default', { milestones: '1,x' }), /^--milestones must be comma-separated/);
  fails(() => gvarRunConfig('default', {}, {}, 'cifar10'), /cifar10 needs --data-dir/);
  fails(() => gvarRunConfig('default', {}, {}, 'mnist', 'resnet50'), /--arch must be one of mlp, resnet8 for mnist/);
  fails(() => gvarRunConfig('default', { hidden: '64' }, {}, 'mnist', 'resnet8'), /--hidden applies to --arch mlp only/);
  fails(() => gvarRunConfig('default', {}, { exact: true }, 'mnist', 'resnet8'), /exact statistics are implemented for the MLP only/);
  fails(() => gvarRunConfig('fast', {}), /--preset must be 'default' or 'paper'/);
});

test.run();
