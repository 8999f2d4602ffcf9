// Variable substitution in one string, with compose-go's grammar: $$, $VAR, ${VAR},
// ${VAR:-d} ${VAR-d} ${VAR:?e} ${VAR?e} ${VAR:+a} ${VAR+a}, defaults nested to any depth.

export type Lookup = (name: string) => string | undefined;

export class InvalidTemplateError extends Error {
  constructor(public readonly template: string) {
    super(`Invalid template: ${JSON.stringify(template)}`);
  }
}

export class MissingRequiredError extends Error {
  constructor(public readonly variable: string, public readonly reason: string) {
    super(reason ? `required variable ${variable} is missing a value: ${reason}` : `required variable ${variable} is missing a value`);
  }
}

const NAME_START = /[_a-zA-Z]/;
const NAME_CHAR = /[_a-zA-Z0-9]/;

/** `onUnset` hears of plain `$VAR` / `${VAR}` references to unset variables (compose warns) */
export function substitute(template: string, lookup: Lookup, onUnset?: (name: string) => void): string {
  return new Parser(template, lookup, onUnset).run();
}

class Parser {
  private i = 0;
  private dry = false;
  constructor(private readonly s: string, private readonly lookup: Lookup, private readonly onUnset?: (name: string) => void) {}

  private plain(name: string): string {
    if (this.dry) return '';
    const v = this.lookup(name);
    if (v === undefined) this.onUnset?.(name);
    return v ?? '';
  }

  run(): string {
    const out = this.text(false);
    return out;
  }

  /** reads until the end, or until the `}` closing a braced expression when nested */
  private text(nested: boolean): string {
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i];
      if (nested && c === '}') return out;
      if (c !== '$') {
        out += c;
        this.i++;
        continue;
      }
      const n = this.s[this.i + 1];
      if (n === '$') {
        out += '$';
        this.i += 2;
      } else if (n === '{') {
        this.i += 2;
        out += this.braced();
      } else if (n !== undefined && NAME_START.test(n)) {
        this.i++;
        const name = this.name();
        out += this.plain(name);
      } else {
        // a `$` not starting an expression stays as written, like compose-go
        out += '$';
        this.i++;
      }
    }
    if (nested) throw new InvalidTemplateError(this.s);
    return out;
  }

  private name(): string {
    const start = this.i;
    while (this.i < this.s.length && NAME_CHAR.test(this.s[this.i])) this.i++;
    return this.s.slice(start, this.i);
  }

  private braced(): string {
    if (!NAME_START.test(this.s[this.i] ?? '')) throw new InvalidTemplateError(this.s);
    const name = this.name();
    const c = this.s[this.i];
    if (c === '}') {
      this.i++;
      return this.plain(name);
    }
    let op: string;
    if (c === ':' && ['-', '?', '+'].includes(this.s[this.i + 1] ?? '')) {
      op = this.s.slice(this.i, this.i + 2);
      this.i += 2;
    } else if (c === '-' || c === '?' || c === '+') {
      op = c;
      this.i++;
    } else {
      throw new InvalidTemplateError(this.s);
    }
    const value = this.dry ? '' : this.lookup(name);
    const unset = value === undefined;
    const empty = unset || value === '';
    // an unused default is parsed but not evaluated, so a `?` inside it cannot fail
    const used = op === ':-' ? empty : op === '-' ? unset : op === ':+' ? !empty : op === '+' ? !unset : op === ':?' ? empty : unset;
    const start = this.i;
    const wasDry = this.dry;
    if (!used) this.dry = true;
    const arg = this.text(true);
    this.dry = wasDry;
    const raw = this.s.slice(start, this.i);
    if (this.s[this.i] !== '}') throw new InvalidTemplateError(this.s);
    this.i++;
    if (this.dry) return '';
    switch (op) {
      case ':-': return empty ? arg : value!;
      case '-': return unset ? arg : value!;
      case ':+': return empty ? '' : arg;
      case '+': return unset ? '' : arg;
      case ':?': if (empty) throw new MissingRequiredError(name, raw ? arg : ''); return value!;
      default: if (unset) throw new MissingRequiredError(name, raw ? arg : ''); return value!;
    }
  }
}
