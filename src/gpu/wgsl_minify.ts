// A WGSL minifier: drops line and (nested) block comments, collapses blank space, and
// removes blank space next to punctuation. Line breaks are kept (blank lines become empty),
// so a compiler message's line number in the embedded text is the line in shaders/*.wgsl;
// identifiers are kept too, so Dawn's messages and reflection name the WGSL's own variables.
// Tokens are never joined: a space stays wherever both neighbours are word characters or
// where two punctuation marks would read as one operator.

const PUNCT = /[{}()[\];,:<>=+\-*/%&|^!~.@]/;
// Two-character operators that two separate punctuation tokens would form if joined:
// `vec4<f32> = v` must not become `vec4<f32>=v`, nor `a - -b` become `a--b`.
const FUSES = new Set(['--', '++', '&&', '||', '->', '<<', '>>', '==', '<=', '>=', '!=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=']);

/** Replaces comments with spaces, keeping every line break (also those inside block comments). */
function stripComments(src: string): string {
  let s = '';
  for (let i = 0; i < src.length; ) {
    if (src.startsWith('//', i)) {
      while (i < src.length && src[i] !== '\n') i++;
    } else if (src.startsWith('/*', i)) {
      let depth = 0;
      do {
        if (src.startsWith('/*', i)) { depth++; i += 2; }
        else if (src.startsWith('*/', i)) { depth--; i += 2; }
        else { if (src[i] === '\n') s += '\n'; i++; }
      } while (depth > 0 && i < src.length);
      s += ' ';
    } else s += src[i++];
  }
  return s;
}

function squeezeLine(line: string): string {
  const words = line.split(/\s+/).filter((x) => x.length > 0);
  let out = '';
  for (const w of words) {
    const prev = out[out.length - 1];
    // `a[k] - 2.0` joined as `a[k]-2.0` (or `a[k] -2.0`) is valid WGSL, but wgsl_reflect (our
    // binding checker) reads `-2.0` there as a negative literal: keep the space that followed a
    // minus in the source when a number comes next.
    const minusNumber = prev === '-' && /[0-9.]/.test(w[0]);
    const needsSpace = prev !== undefined && ((!PUNCT.test(prev) && !PUNCT.test(w[0])) || FUSES.has(prev + w[0]) || minusNumber);
    out += needsSpace ? ' ' + w : w;
  }
  return out;
}

export function minifyWgsl(src: string): string {
  // A line break separates tokens, so squeezing each line alone never joins two tokens.
  return stripComments(src).split('\n').map(squeezeLine).join('\n').replace(/\n+$/, '');
}
