// Go text/template as docker's --format uses it: parse once, execute per
// object. docker/cli's extra functions are always available.

import { builtinFuncs, dockerFuncs, funcDefOf, type FuncDef } from './builtins.js';
import { State } from './exec.js';
import { parse, TemplateError, type ParsedTemplates } from './parser.js';

export { TemplateError } from './parser.js';
export { goJSON, goJSONString } from './gojson.js';
export { formatV, sprint, sprintf, sprintln, quoteGo, formatFloatG, formatFloatE, formatFloatF } from './gofmt.js';
export { dockerHeaderFuncs, type FuncDef } from './builtins.js';
export { GO_TYPE } from './values.js';

export interface ExecuteOptions {
  /** Replace functions for this execution, as Go's Template.Funcs does after parsing. */
  funcs?: Record<string, FuncDef>;
}

export class Template {
  private readonly funcs: Record<string, FuncDef>;

  constructor(
    private readonly text: string,
    private readonly parsed: ParsedTemplates,
    funcs: Record<string, FuncDef>,
    readonly name = '',
  ) {
    this.funcs = funcs;
  }

  /** Runs the template on data; throws TemplateError (with partialOutput) on failure. */
  execute(data: unknown, opts: ExecuteOptions = {}): string {
    const funcs = opts.funcs ? { ...this.funcs, ...opts.funcs } : this.funcs;
    const state = new State({ name: this.name, text: this.text, defs: this.parsed.defs, funcs }, data);
    return state.run(this.parsed.root, data);
  }
}

/** Parses a template named "" (as docker does) with builtins, docker's functions and any extras. */
export function parseTemplate(text: string, funcs?: Record<string, Function>, name = ''): Template {
  const all: Record<string, FuncDef> = { ...builtinFuncs, ...dockerFuncs };
  for (const [k, fn] of Object.entries(funcs ?? {})) all[k] = funcDefOf(fn);
  const parsed = parse(text, name, (n) => Object.prototype.hasOwnProperty.call(all, n));
  return new Template(text, parsed, all, name);
}

export function renderTemplate(text: string, data: unknown): string {
  return parseTemplate(text).execute(data);
}

export function isTemplateError(e: unknown): e is TemplateError {
  return e instanceof TemplateError;
}
