// A WGSL minifier: drops line and (nested) block comments, collapses runs of blank space,
// and removes blank space next to punctuation. Identifiers are kept, so Dawn's messages and
// reflection still name the WGSL's own variables. Tokens are never joined: a space stays
// wherever both neighbours are word characters.

const PUNCT = /[{}()[\];,:<>=+\-*/%&|^!~.@]/;
// Two-character operators that two separate punctuation tokens would form if joined:
// `vec4<f32> = v` must not become `vec4<f32>=v`, nor `a - -b` become `a--b`.
const FUSES = new Set(['--', '++', '&&', '||', '->', '<<', '>>', '==', '<=', '>=', '!=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=']);

export function minifyWgsl(src: string): string {
  let s = '';
  for (let i = 0; i < src.length; ) {
    if (src.startsWith('//', i)) {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (src.startsWith('/*', i)) {
      let depth = 0;
      do {
        if (src.startsWith('/*', i)) { depth++; i += 2; }
        else if (src.startsWith('*/', i)) { depth--; i += 2; }
        else i++;
      } while (depth > 0 && i < src.length);
      s += ' ';
    } else s += src[i++];
  }
  const words = s.split(/\s+/).filter((w) => w.length > 0);
  let out = '';
  for (const w of words) {
    const prev = out[out.length - 1];
    // keep a space only between two word characters (e.g. `let x`, `var<...> y`)
    const needsSpace = prev !== undefined && ((!PUNCT.test(prev) && !PUNCT.test(w[0])) || FUSES.has(prev + w[0]));
    out += needsSpace ? ' ' + w : w;
  }
  return out;
}
