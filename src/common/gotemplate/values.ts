// How JS values map onto Go's reflect kinds for template evaluation.
// Plain objects behave as Go maps, class instances as structs (pointer
// receivers), integral numbers as int and other numbers as float64.

export type Kind = 'invalid' | 'nil' | 'string' | 'int' | 'float' | 'bool' | 'slice' | 'map' | 'struct' | 'func';

/** A class may set this static to name its Go type in error messages. */
export const GO_TYPE = Symbol.for('berth.goType');

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const p = Object.getPrototypeOf(v);
  return p === Object.prototype || p === null;
}

export function kindOf(v: unknown): Kind {
  if (v === undefined) return 'invalid';
  if (v === null) return 'nil';
  switch (typeof v) {
    case 'string': return 'string';
    case 'number': return Number.isInteger(v) ? 'int' : 'float';
    case 'bigint': return 'int';
    case 'boolean': return 'bool';
    case 'function': return 'func';
  }
  if (Array.isArray(v)) return 'slice';
  if (isPlainObject(v)) return 'map';
  return 'struct';
}

export function goTypeName(v: unknown): string {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil': return '<nil>';
    case 'string': return 'string';
    case 'int': return 'int';
    case 'float': return 'float64';
    case 'bool': return 'bool';
    case 'func': return 'func()';
    case 'slice': {
      const a = v as unknown[];
      return a.length > 0 && a.every((e) => typeof e === 'string') ? '[]string' : '[]interface {}';
    }
    case 'map': return isStringMap(v as Record<string, unknown>) ? 'map[string]string' : 'map[string]interface {}';
    case 'struct': {
      const ctor = (v as object).constructor as unknown as Record<symbol, unknown> & { name?: string };
      const named = ctor?.[GO_TYPE];
      return typeof named === 'string' ? named : `*${ctor?.name ?? 'struct'}`;
    }
  }
}

/** Maps whose values are all strings act like Go's map[string]string (index yields ""). */
export function isStringMap(m: Record<string, unknown>): boolean {
  const vals = Object.values(m);
  return vals.length > 0 && vals.every((x) => typeof x === 'string');
}

/** text/template's truth: the zero value of the type is false. */
export function isTrue(v: unknown): boolean {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil': return false;
    case 'string': return (v as string).length > 0;
    case 'int':
    case 'float': return v !== 0 && v !== 0n;
    case 'bool': return v as boolean;
    case 'slice': return (v as unknown[]).length > 0;
    case 'map': return Object.keys(v as object).length > 0;
    default: return true;
  }
}

/** A struct with a String() or Error() method is a fmt.Stringer / error. */
export function stringerOf(v: unknown): string | undefined {
  if (kindOf(v) !== 'struct') return undefined;
  const o = v as { Error?: unknown; String?: unknown };
  if (typeof o.Error === 'function') return String((o.Error as () => unknown).call(o));
  if (typeof o.String === 'function') return String((o.String as () => unknown).call(o));
  if (v instanceof Error) return v.message;
  return undefined;
}

/** Go's map iteration order for printing and range: sorted keys. */
export function sortedKeys(m: Record<string, unknown>): string[] {
  return Object.keys(m).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
