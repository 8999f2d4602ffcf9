// Go literal syntax: strconv.Unquote for strings/chars and the number forms
// text/template accepts.

/** strconv.Unquote; null when the literal is malformed. */
export function unquoteGo(lit: string): string | null {
  const q = lit[0];
  if (lit.length < 2 || lit[lit.length - 1] !== q) return null;
  const body = lit.slice(1, -1);
  if (q === '`') return body.includes('`') ? null : body.replace(/\r/g, '');
  if (q !== '"' && q !== "'") return null;
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === q) return null;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    switch (e) {
      case 'a': out += '\x07'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '"':
      case "'":
        if (e !== q) return null;
        out += e;
        break;
      case 'x': case 'u': case 'U': {
        const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
        const hex = body.slice(i + 1, i + 1 + n);
        if (hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex)) return null;
        const v = parseInt(hex, 16);
        i += n;
        if (e === 'x') {
          // \x is a byte; bytes >= 0x80 cannot be represented without UTF-8 decoding.
          out += String.fromCharCode(v);
        } else {
          if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) return null;
          out += String.fromCodePoint(v);
        }
        break;
      }
      default:
        if (e !== undefined && e >= '0' && e <= '7') {
          const oct = body.slice(i, i + 3);
          if (!/^[0-7]{3}$/.test(oct)) return null;
          const v = parseInt(oct, 8);
          if (v > 255) return null;
          out += String.fromCharCode(v);
          i += 2;
          break;
        }
        return null;
    }
  }
  if (q === "'" && [...out].length !== 1) return null;
  return out;
}

/** Number literal as text/template's NumberNode sees it; a string is an error text. */
export function parseGoNumber(text: string, isChar: boolean): { value: number; isFloat: boolean } | string {
  if (isChar) {
    const s = unquoteGo(text);
    if (s === null) return `malformed character constant: ${text}`;
    return { value: s.codePointAt(0)!, isFloat: false };
  }
  if (text.endsWith('i')) return `complex numbers are not supported: ${text}`;
  let t = text;
  let sign = 1;
  if (t[0] === '+' || t[0] === '-') {
    if (t[0] === '-') sign = -1;
    t = t.slice(1);
  }
  if (t.includes('_')) {
    if (/^_|__|_$/.test(t) || /_\.|\._/.test(t)) return `illegal number syntax: "${text}"`;
    t = t.replace(/_/g, '');
  }
  let m: RegExpMatchArray | null;
  if ((m = t.match(/^0[xX]([0-9a-fA-F]+)$/))) return { value: sign * parseInt(m[1]!, 16), isFloat: false };
  if ((m = t.match(/^0[oO]?([0-7]+)$/))) return { value: sign * parseInt(m[1]!, 8), isFloat: false };
  if ((m = t.match(/^0[bB]([01]+)$/))) return { value: sign * parseInt(m[1]!, 2), isFloat: false };
  if (/^(0|[1-9][0-9]*)$/.test(t)) return { value: sign * Number(t), isFloat: false };
  if (/^([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(t)) {
    const v = sign * Number(t);
    // Go keeps a float literal with an integral value usable as an int.
    return { value: v, isFloat: true };
  }
  return `illegal number syntax: "${text}"`;
}
