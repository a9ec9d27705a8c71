// Checks a kernel descriptor against the WGSL it launches, using wgsl_reflect's parse:
// the uniform at @binding(0) is `Params` with exactly the descriptor's fields (names, types,
// order), and every storage buffer the entry point uses sits at the binding the descriptor
// gives it, with the same name and access. Returns a list of mismatches (empty = agree).
import { WgslReflect } from 'wgsl_reflect/wgsl_reflect.module.js';
import type { Kernel } from '../kernels/kernel.ts';
import { SHADERS, type ShaderName } from './shader_source.ts';

const parsed = new Map<ShaderName, WgslReflect>();
function reflect(shader: ShaderName): WgslReflect {
  let r = parsed.get(shader);
  if (!r) parsed.set(shader, (r = new WgslReflect(SHADERS[shader])));
  return r;
}

/** Compute entry points declared in a shader file. */
export function entryPoints(shader: ShaderName): string[] {
  return reflect(shader).entry.compute.map((e) => e.name);
}

/** Override constants declared in a shader file. */
export function overrideNames(shader: ShaderName): string[] {
  return reflect(shader).overrides.map((o) => o.name);
}

export function descriptorMismatches(k: Kernel<any>): string[] {
  const r = reflect(k.shader);
  const out: string[] = [];
  const entry = r.entry.compute.find((e) => e.name === k.entryPoint);
  if (!entry) return [`entry point '${k.entryPoint}' not found in shaders/${k.shader}.wgsl`];
  const declared = new Set(overrideNames(k.shader));
  for (const o of Object.keys(k.overrides)) if (!declared.has(o)) out.push(`override '${o}' is not declared in the shader`);
  for (const res of entry.resources) {
    if (res.group !== 0) { out.push(`resource '${res.name}' is in group ${res.group}, expected 0`); continue; }
    if (res.binding === 0) {
      const st = r.structs.find((s) => s.name === res.type?.name);
      if (!st) { out.push(`binding 0 is '${res.type?.name}', expected struct Params`); continue; }
      const got = st.members.map((m) => `${m.name}:${m.type.name}`).join(',');
      const want = k.params.map((p) => `${p.name}:${p.type}`).join(',');
      if (got !== want) out.push(`Params in WGSL {${got}} != descriptor {${want}}`);
      continue;
    }
    const b = k.bindings[res.binding - 1];
    if (!b) { out.push(`WGSL uses @binding(${res.binding}) '${res.name}' which the descriptor lacks`); continue; }
    if (b.name !== res.name) out.push(`@binding(${res.binding}) is '${res.name}' in WGSL, '${b.name}' in the descriptor`);
    const access = res.access === 'read' ? 'read' : 'read_write';
    if (b.access !== access) out.push(`'${res.name}' is ${access} in WGSL, ${b.access} in the descriptor`);
  }
  return out;
}
