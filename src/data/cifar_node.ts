// Node-only CIFAR loader: reads the binary-version files of one split from a user-given folder
// and hands the bytes to the shared parser (cifar.ts). The folder may be the unpacked archive
// folder itself (cifar-10-batches-bin/, cifar-100-binary/) or the folder holding it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataError } from './data_error.ts';
import type { Dataset } from './dataset.ts';
import type { NamedBytes } from './mnist.ts';
import { CIFAR_FORMATS, parseCifar, type CifarKind, type CifarParseOptions, type CifarSplit } from './cifar.ts';

const SOURCE = 'https://www.cs.toronto.edu/~kriz/cifar.html';
/** The folders the python-version archives unpack to (their files are pickles, not records). */
const PYTHON_FOLDER: Record<CifarKind, string> = { cifar10: 'cifar-10-batches-py', cifar100: 'cifar-100-python' };

/** `dir`, or `dir/<archive folder>` when the files are there and not in `dir` itself. */
export function resolveCifarDir(kind: CifarKind, dir: string): string {
  const fmt = CIFAR_FORMATS[kind];
  const probe = fmt.files.test[0];
  if (!existsSync(join(dir, probe)) && existsSync(join(dir, fmt.folder, probe))) return join(dir, fmt.folder);
  return dir;
}

/** What a folder missing `name` should have held, and a hint when it holds the python version. */
function missing(kind: CifarKind, dir: string, name: string): never {
  const fmt = CIFAR_FORMATS[kind];
  const all = [...fmt.files.train, ...fmt.files.test].join(', ');
  const python = existsSync(join(dir, name.replace(/\.bin$/, ''))) || existsSync(join(dir, PYTHON_FOLDER[kind]));
  const hint = python ? ' This folder looks like the python version (pickles); the loader reads the binary version.' : '';
  dataError(dir, `${name} not found: a ${fmt.title} folder holds the binary-version files ${all} ` +
    `(the "${fmt.title} binary version" from ${SOURCE}, unpacked; its folder ${fmt.folder}/ or the folder above it).${hint}`);
}

function readCifarFile(kind: CifarKind, dir: string, name: string): NamedBytes {
  const path = join(dir, name);
  if (!existsSync(path)) missing(kind, dir, name);
  try {
    return { name: path, bytes: readFileSync(path) };
  } catch (e) {
    dataError(path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/**
 * Loads one split of CIFAR-10 (train: 50,000 items in 5 files, test: 10,000) or CIFAR-100
 * (train: 50,000, test: 10,000; fine labels) from `dir` as float32 NCHW [N, 3, 32, 32],
 * normalised with the CIFAR-10 mean/std (SPEC 3.2, 3.3). Every problem is one DataError line.
 */
export function loadCifar(kind: CifarKind, split: CifarSplit, dir: string, opts: CifarParseOptions = {}): Dataset {
  const fmt = CIFAR_FORMATS[kind];
  if (!fmt) throw new RangeError(`loadCifar: unknown data set '${kind}' (cifar10 or cifar100)`);
  if (!existsSync(dir)) dataError(dir, `${fmt.title} folder not found (download the binary version from ${SOURCE})`);
  const at = resolveCifarDir(kind, dir);
  const names = fmt.files[split];
  if (!names) throw new RangeError(`loadCifar: unknown split '${split}' (train or test)`);
  // Every file must be present before any (30 MB) file is read.
  for (const name of names) if (!existsSync(join(at, name))) missing(kind, at, name);
  return parseCifar(kind, split, names.map((name) => readCifarFile(kind, at, name)), opts);
}
