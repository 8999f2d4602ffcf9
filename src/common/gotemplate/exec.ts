// Executor for parsed templates, after text/template/exec.go: same
// evaluation order, variable scoping, and "executing ... at <node>" errors.

import { argString, commandString, pipeString, type ArgNode, type CommandNode, type ListNode, type Node, type PipeNode } from './ast.js';
import type { FuncDef, ParamType } from './builtins.js';
import { formatV } from './gofmt.js';
import { TemplateError } from './parser.js';
import { goTypeName, isTrue, kindOf, sortedKeys } from './values.js';

const MISSING = Symbol('missing');
type Val = unknown;

const BREAK = Symbol('break');
const CONTINUE = Symbol('continue');
const MAX_DEPTH = 1000;

export interface ExecEnv {
  name: string;
  text: string;
  defs: Map<string, ListNode>;
  funcs: Record<string, FuncDef>;
}

type At = { pos: number; str: string } | null;

export class State {
  out = '';
  private vars: { name: string; value: Val }[] = [];
  private at: At = null;
  private depth = 0;
  private execName: string;

  constructor(private env: ExecEnv, data: Val) {
    this.vars.push({ name: '$', value: data });
    this.execName = env.name;
  }

  run(root: ListNode, data: Val): string {
    try {
      this.walk(data, root);
    } catch (e) {
      if (e instanceof TemplateError) {
        e.partialOutput = this.out;
        throw e;
      }
      throw e;
    }
    return this.out;
  }

  private errorf(msg: string): never {
    let text: string;
    if (!this.at) {
      text = `template: ${this.env.name}: ${msg}`;
    } else {
      const before = this.env.text.slice(0, this.at.pos);
      const nl = before.lastIndexOf('\n');
      const line = 1 + (before.match(/\n/g)?.length ?? 0);
      const col = Buffer.byteLength(before.slice(nl + 1), 'utf8');
      text = `template: ${this.env.name}:${line}:${col}: executing ${JSON.stringify(this.execName)} at <${this.at.str}>: ${msg}`;
    }
    throw new TemplateError(text);
  }

  private setAt(pos: number, str: string): void {
    this.at = { pos, str };
  }

  private mark(): number {
    return this.vars.length;
  }
  private pop(m: number): void {
    this.vars.length = m;
  }
  private push(name: string, value: Val): void {
    this.vars.push({ name, value });
  }
  private setVar(name: string, value: Val): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }
  private setTopVar(n: number, value: Val): void {
    this.vars[this.vars.length - n]!.value = value;
  }
  private varValue(name: string): Val {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) return this.vars[i]!.value;
    }
    this.errorf(`undefined variable: ${name}`);
  }

  walk(dot: Val, node: Node): void {
    switch (node.t) {
      case 'list':
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case 'text':
        this.out += node.text;
        return;
      case 'comment':
        return;
      case 'action': {
        const v = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node.pos, `{{${pipeString(node.pipe)}}}`, v);
        return;
      }
      case 'if':
      case 'with': {
        const m = this.mark();
        try {
          const v = this.evalPipeline(dot, node.pipe);
          if (isTrue(v)) this.walk(node.t === 'with' ? v : dot, node.list);
          else if (node.elseList) this.walk(dot, node.elseList);
        } finally {
          this.pop(m);
        }
        return;
      }
      case 'range':
        this.walkRange(dot, node);
        return;
      case 'template': {
        this.setAt(node.pos, `{{template ${JSON.stringify(node.name)}${node.pipe ? ' ' + pipeString(node.pipe) : ''}}}`);
        const t = this.env.defs.get(node.name);
        if (!t) this.errorf(`template ${JSON.stringify(node.name)} not defined`);
        if (this.depth >= MAX_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_DEPTH})`);
        const newDot = node.pipe ? this.evalPipeline(dot, node.pipe) : undefined;
        const saved = { vars: this.vars, name: this.execName };
        this.vars = [{ name: '$', value: newDot }];
        this.execName = node.name;
        this.depth++;
        try {
          this.walk(newDot, t);
        } finally {
          this.depth--;
          this.vars = saved.vars;
          this.execName = saved.name;
        }
        return;
      }
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
    }
  }

  private walkRange(dot: Val, r: Extract<Node, { t: 'if' | 'range' | 'with' }>): void {
    this.setAt(r.pos, `{{range ${pipeString(r.pipe)}}}`);
    const m = this.mark();
    try {
      const val = this.evalPipeline(dot, r.pipe);
      const mark = this.mark();
      const one = (index: Val, elem: Val): boolean => {
        const decl = r.pipe.decl;
        if (decl.length > 0) {
          if (r.pipe.isAssign) this.setVar(decl[0]!, decl.length > 1 ? index : elem);
          else this.setTopVar(1, elem);
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1]!, elem);
          else this.setTopVar(2, index);
        }
        try {
          this.walk(elem, r.list);
        } catch (e) {
          if (e === CONTINUE) return true;
          if (e === BREAK) return false;
          throw e;
        } finally {
          this.pop(mark);
        }
        return true;
      };
      let any = false;
      switch (kindOf(val)) {
        case 'slice': {
          const a = val as Val[];
          for (let i = 0; i < a.length; i++) {
            any = true;
            if (!one(i, a[i])) break;
          }
          break;
        }
        case 'map': {
          const o = val as Record<string, Val>;
          for (const k of sortedKeys(o)) {
            any = true;
            if (!one(k, o[k])) break;
          }
          break;
        }
        case 'int': {
          const n = Number(val);
          if (r.pipe.decl.length > 1) this.errorf(`can't use ${n} to iterate over more than one variable`);
          for (let i = 0; i < n; i++) {
            any = true;
            if (!one(i, i)) break;
          }
          break;
        }
        case 'invalid':
        case 'nil':
          break;
        default:
          this.setAt(r.pos, `{{range ${pipeString(r.pipe)}}}`);
          this.errorf(`range can't iterate over ${formatV(val, false, false)}`);
      }
      if (!any && r.elseList) this.walk(dot, r.elseList);
    } finally {
      this.pop(m);
    }
  }

  private printValue(pos: number, str: string, v: Val): void {
    this.setAt(pos, str);
    if (typeof v === 'function') this.errorf(`can't print ${str} of type ${goTypeName(v)}`);
    this.out += formatV(v, false, true);
  }

  evalPipeline(dot: Val, pipe: PipeNode): Val {
    this.setAt(pipe.pos, pipeString(pipe));
    let value: Val | typeof MISSING = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    const v = value === MISSING ? undefined : value;
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.setVar(name, v);
      else this.push(name, v);
    }
    return v;
  }

  private notAFunction(args: ArgNode[], final: Val | typeof MISSING): void {
    if (args.length > 1 || final !== MISSING) this.errorf(`can't give argument to non-function ${argString(args[0]!)}`);
  }

  private evalCommand(dot: Val, cmd: CommandNode, final: Val | typeof MISSING): Val {
    const first = cmd.args[0]!;
    switch (first.t) {
      case 'field':
        this.setAt(first.pos, argString(first));
        return this.evalFieldChain(dot, dot, first, first.idents, cmd.args, final);
      case 'chain':
        return this.evalChain(dot, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first.pipe);
      case 'variable':
        return this.evalVariable(dot, first, cmd.args, final);
    }
    this.setAt(first.pos, argString(first));
    this.notAFunction(cmd.args, final);
    switch (first.t) {
      case 'bool': return first.value;
      case 'dot': return dot;
      case 'nil': this.errorf('nil is not a command');
      case 'number': return first.value;
      case 'string': return first.text;
    }
  }

  private evalChain(dot: Val, chain: Extract<ArgNode, { t: 'chain' }>, args: ArgNode[] | null, final: Val | typeof MISSING): Val {
    this.setAt(chain.pos, argString(chain));
    if (chain.node.t === 'nil') this.errorf(`indirection through explicit nil in ${argString(chain)}`);
    const recv = this.evalArg(dot, 'any', chain.node);
    return this.evalFieldChain(dot, recv, chain, chain.fields, args, final);
  }

  private evalVariable(dot: Val, v: Extract<ArgNode, { t: 'variable' }>, args: ArgNode[] | null, final: Val | typeof MISSING): Val {
    this.setAt(v.pos, argString(v));
    const value = this.varValue(v.idents[0]!);
    if (v.idents.length === 1) {
      if (args) this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.idents.slice(1), args, final);
  }

  private evalFieldChain(dot: Val, recv: Val, node: ArgNode, idents: string[], args: ArgNode[] | null, final: Val | typeof MISSING): Val {
    const n = idents.length;
    for (let i = 0; i < n - 1; i++) recv = this.evalField(dot, idents[i]!, node, null, MISSING, recv);
    return this.evalField(dot, idents[n - 1]!, node, args, final, recv);
  }

  private evalField(dot: Val, name: string, node: ArgNode, args: ArgNode[] | null, final: Val | typeof MISSING, recv: Val): Val {
    if (recv === undefined) return undefined;
    if (recv === null) this.errorf(`nil pointer evaluating interface {}.${name}`);
    const k = kindOf(recv);
    const hasArgs = (args !== null && args.length > 1) || final !== MISSING;
    if (k === 'map' || k === 'struct') {
      const o = recv as Record<string, unknown>;
      const found = k === 'map' ? Object.prototype.hasOwnProperty.call(o, name) : hasStructMember(o, name);
      // Struct methods are called; a map holding a function just yields it, as in Go.
      if (k === 'struct' && found && typeof o[name] === 'function') {
        const fn = o[name] as (...a: unknown[]) => unknown;
        const def: FuncDef = { params: Array.from({ length: fn.length }, () => 'any' as ParamType), fn: (...a) => fn.apply(o, a) };
        return this.evalCall(dot, def, node, name, args, final);
      }
      if (k === 'map') {
        if (hasArgs) this.errorf(`${name} is not a method but has arguments`);
        return found ? o[name] : undefined;
      }
      if (found) {
        if (!/^\p{Lu}/u.test(name)) this.errorf(`${name} is an unexported field of struct type ${goTypeName(recv)}`);
        if (hasArgs) this.errorf(`${name} has arguments but cannot be invoked as function`);
        return o[name];
      }
    }
    this.errorf(`can't evaluate field ${name} in type ${goTypeName(recv)}`);
  }

  private evalFunction(dot: Val, node: Extract<ArgNode, { t: 'identifier' }>, cmd: CommandNode | ArgNode, args: ArgNode[] | null, final: Val | typeof MISSING): Val {
    this.setAt(node.pos, node.name);
    const def = this.env.funcs[node.name];
    if (!def) this.errorf(`"${node.name}" is not a defined function`);
    const at = 'args' in cmd ? { pos: cmd.pos, str: commandString(cmd) } : { pos: node.pos, str: node.name };
    return this.evalCall(dot, def, at, node.name, args, final);
  }

  private evalCall(dot: Val, def: FuncDef, node: ArgNode | { pos: number; str: string }, name: string, argNodes: ArgNode[] | null, final: Val | typeof MISSING): Val {
    const args = argNodes ? argNodes.slice(1) : [];
    const numIn = args.length + (final !== MISSING ? 1 : 0);
    const numFixed = def.params.length;
    if (def.variadic) {
      if (numIn < numFixed) this.errorf(`wrong number of args for ${name}: want at least ${numFixed} got ${args.length}`);
    } else if (numIn !== numFixed) {
      this.errorf(`wrong number of args for ${name}: want ${numFixed} got ${numIn}`);
    }
    const typeAt = (i: number): ParamType => (i < numFixed ? def.params[i]! : def.variadic!);
    const atNode = (): void => {
      if ('str' in node) this.setAt(node.pos, node.str);
      else this.setAt(node.pos, argString(node));
    };

    if (def.lazy) {
      // and/or stop at the first argument that decides the result.
      let v: Val = undefined;
      const all = args.length + (final !== MISSING ? 1 : 0);
      for (let i = 0; i < all; i++) {
        v = i < args.length ? this.evalArg(dot, 'any', args[i]!) : final;
        if (isTrue(v) === (def.lazy === 'or')) return v;
      }
      return v;
    }

    const vals: Val[] = args.map((a, i) => this.evalArg(dot, typeAt(i), a));
    if (final !== MISSING) {
      vals.push(this.validateType(final, typeAt(args.length)));
    }
    atNode();
    try {
      return def.fn(...vals);
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      atNode();
      this.errorf(`error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private validateType(v: Val, typ: ParamType): Val {
    if (typ === 'any') return v;
    if (v === undefined) {
      if (typ === '[]string') return null;
      this.errorf(`invalid value; expected ${typ}`);
    }
    const ok =
      (typ === 'string' && typeof v === 'string') ||
      (typ === 'int' && kindOf(v) === 'int') ||
      (typ === '[]string' && (v === null || (Array.isArray(v) && v.every((e) => typeof e === 'string'))));
    if (!ok) this.errorf(`wrong type for value; expected ${typ}; got ${v === null ? 'interface {}' : goTypeName(v)}`);
    return v;
  }

  private evalArg(dot: Val, typ: ParamType, n: ArgNode): Val {
    this.setAt(n.pos, argString(n));
    switch (n.t) {
      case 'dot': return this.validateType(dot, typ);
      case 'nil':
        if (typ === 'any' || typ === '[]string') return null;
        this.errorf(`cannot assign nil to ${typ}`);
      case 'field': return this.validateType(this.evalFieldChain(dot, dot, n, n.idents, [n], MISSING), typ);
      case 'variable': return this.validateType(this.evalVariable(dot, n, null, MISSING), typ);
      case 'pipe': return this.validateType(this.evalPipeline(dot, n.pipe), typ);
      case 'identifier': return this.validateType(this.evalFunction(dot, n, n, null, MISSING), typ);
      case 'chain': return this.validateType(this.evalChain(dot, n, null, MISSING), typ);
    }
    switch (typ) {
      case 'any':
        if (n.t === 'bool') return n.value;
        if (n.t === 'number') return n.value;
        return n.text;
      case 'string':
        if (n.t === 'string') return n.text;
        this.errorf(`expected string; found ${argString(n)}`);
      case 'int':
        if (n.t === 'number' && Number.isInteger(n.value)) return n.value;
        this.errorf(`expected integer; found ${argString(n)}`);
      default:
        this.errorf(`can't handle ${argString(n)} for arg of type ${typ}`);
    }
  }
}

function hasStructMember(o: object, name: string): boolean {
  if (name === 'constructor') return false;
  let p: object | null = o;
  while (p && p !== Object.prototype) {
    if (Object.prototype.hasOwnProperty.call(p, name)) return true;
    p = Object.getPrototypeOf(p);
  }
  return false;
}

