// Recursive-descent parser mirroring text/template/parse/parse.go, including
// its error texts ("function %q not defined", "unexpected EOF", ...).

import type { ArgNode, CommandNode, ListNode, Node, PipeNode } from './ast.js';
import { lex, type Item, type ItemType } from './lexer.js';
import { unquoteGo, parseGoNumber } from './literals.js';

export class TemplateError extends Error {
  /** Output produced before an execution error; Go writes it out as it goes. */
  partialOutput = '';
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

export interface ParsedTemplates {
  root: ListNode;
  defs: Map<string, ListNode>;
}

type EndMarker = { t: 'end'; pos: number; line: number } | { t: 'else'; pos: number; line: number };
type ParsedNode = Node | EndMarker;

export function parse(text: string, name: string, hasFunc: (n: string) => boolean): ParsedTemplates {
  return new Parser(text, name, hasFunc).parseAll();
}

class Parser {
  private items: Item[];
  private i = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private defs = new Map<string, ListNode>();
  private actionLine = 0;

  constructor(
    private text: string,
    private name: string,
    private hasFunc: (n: string) => boolean,
  ) {
    this.items = lex(text);
  }

  private errorf(msg: string, line?: number): never {
    const l = line ?? this.items[Math.max(0, Math.min(this.i - 1, this.items.length - 1))]!.line;
    throw new TemplateError(`template: ${this.name}:${l}: ${msg}`);
  }

  private next(): Item {
    const it = this.items[this.i] ?? this.items[this.items.length - 1]!;
    if (this.i < this.items.length) this.i++;
    return it;
  }
  private backup(n = 1): void {
    this.i -= n;
  }
  private peek(): Item {
    return this.items[this.i] ?? this.items[this.items.length - 1]!;
  }
  private nextNonSpace(): Item {
    let it = this.next();
    while (it.typ === 'space') it = this.next();
    return it;
  }
  private peekNonSpace(): Item {
    const it = this.nextNonSpace();
    this.backup();
    return it;
  }

  private unexpected(it: Item, context: string): never {
    if (it.typ === 'error') {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== it.line) {
        extra = ` in action started at ${this.name}:${this.actionLine}`;
      }
      this.errorf(`${it.val}${extra}`, it.line);
    }
    this.errorf(`unexpected ${itemString(it)} in ${context}`, it.line);
  }

  private expect(typ: ItemType, context: string, val?: string): Item {
    const it = this.nextNonSpace();
    if (it.typ !== typ || (val !== undefined && it.val !== val)) this.unexpected(it, context);
    return it;
  }

  parseAll(): ParsedTemplates {
    const root: ListNode = { t: 'list', pos: this.peek().pos, nodes: [] };
    while (this.peek().typ !== 'eof') {
      if (this.peek().typ === 'error') this.unexpected(this.next(), 'input');
      if (this.peek().typ === 'leftDelim') {
        const save = this.i;
        this.next();
        const kw = this.nextNonSpace();
        if (kw.typ === 'keyword' && kw.val === 'define') {
          this.parseDefinition();
          continue;
        }
        this.i = save;
      }
      const n = this.textOrAction();
      if (n.t === 'end' || n.t === 'else') this.errorf(`unexpected {{${n.t}}}`);
      root.nodes.push(n);
    }
    return { root, defs: this.defs };
  }

  private parseDefinition(): void {
    const context = 'define clause';
    const tok = this.nextNonSpace();
    if (tok.typ !== 'string' && tok.typ !== 'rawString') this.unexpected(tok, context);
    const name = this.unquote(tok);
    this.expect('rightDelim', context);
    const savedVars = this.vars;
    this.vars = ['$'];
    const [list, end] = this.itemList();
    this.vars = savedVars;
    if (end.t !== 'end') this.errorf(`unexpected {{${end.t}}} in ${context}`);
    this.addDef(name, list);
  }

  private addDef(name: string, list: ListNode): void {
    const prev = this.defs.get(name);
    // Go lets an empty definition be replaced and keeps a non-empty one over an empty one.
    if (prev && !isEmptyTree(prev) && !isEmptyTree(list)) {
      this.errorf(`template: multiple definition of template "${name}"`);
    }
    if (!prev || !isEmptyTree(list)) this.defs.set(name, list);
  }

  private itemList(): [ListNode, EndMarker] {
    const list: ListNode = { t: 'list', pos: this.peekNonSpace().pos, nodes: [] };
    while (this.peekNonSpace().typ !== 'eof') {
      const n = this.textOrAction();
      if (n.t === 'end' || n.t === 'else') return [list, n];
      list.nodes.push(n);
    }
    this.errorf('unexpected EOF');
  }

  private textOrAction(): ParsedNode {
    const tok = this.nextNonSpace();
    switch (tok.typ) {
      case 'text':
        return { t: 'text', pos: tok.pos, text: tok.val };
      case 'leftDelim': {
        this.actionLine = tok.line;
        try {
          return this.action();
        } finally {
          this.actionLine = 0;
        }
      }
      case 'comment':
        return { t: 'comment', pos: tok.pos, text: tok.val };
      default:
        this.unexpected(tok, 'input');
    }
  }

  private action(): ParsedNode {
    const tok = this.nextNonSpace();
    if (tok.typ === 'keyword') {
      switch (tok.val) {
        case 'block': return this.blockControl();
        case 'break':
        case 'continue': {
          const t = this.nextNonSpace();
          if (t.typ !== 'rightDelim') this.unexpected(t, `{{${tok.val}}}`);
          if (this.rangeDepth === 0) this.errorf(`{{${tok.val}}} outside {{range}}`);
          return { t: tok.val, pos: tok.pos, line: tok.line };
        }
        case 'else': {
          const p = this.peekNonSpace();
          if (p.typ === 'keyword' && (p.val === 'if' || p.val === 'with')) return { t: 'else', pos: p.pos, line: p.line };
          const t = this.expect('rightDelim', 'else');
          return { t: 'else', pos: t.pos, line: t.line };
        }
        case 'end': {
          const t = this.expect('rightDelim', 'end');
          return { t: 'end', pos: t.pos, line: t.line };
        }
        case 'if':
        case 'range':
        case 'with':
          return this.control(tok.val);
        case 'template': return this.templateControl();
        case 'define':
          this.errorf('unexpected <define> in command');
      }
    }
    this.backup();
    const t = this.peek();
    return { t: 'action', pos: t.pos, line: t.line, pipe: this.pipeline('command', 'rightDelim') };
  }

  private control(context: 'if' | 'range' | 'with'): Node {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(context, 'rightDelim');
      if (context === 'range') this.rangeDepth++;
      let [list, next] = this.itemList();
      if (context === 'range') this.rangeDepth--;
      let elseList: ListNode | null = null;
      if (next.t === 'else') {
        const p = this.peek();
        if ((context === 'if' && p.typ === 'keyword' && p.val === 'if') || (context === 'with' && p.typ === 'keyword' && p.val === 'with')) {
          this.next();
          elseList = { t: 'list', pos: next.pos, nodes: [this.control(context)] };
        } else {
          [elseList, next] = this.itemList();
          if (next.t !== 'end') this.errorf(`expected end; found {{${next.t}}}`);
        }
      }
      return { t: context, pos: pipe.pos, line: pipe.line, pipe, list, elseList };
    } finally {
      this.vars.length = mark;
    }
  }

  private templateName(tok: Item, context: string): string {
    if (tok.typ !== 'string' && tok.typ !== 'rawString') this.unexpected(tok, context);
    return this.unquote(tok);
  }

  private templateControl(): Node {
    const context = 'template clause';
    const tok = this.nextNonSpace();
    const name = this.templateName(tok, context);
    let pipe: PipeNode | null = null;
    if (this.nextNonSpace().typ !== 'rightDelim') {
      this.backup();
      pipe = this.pipeline(context, 'rightDelim');
    }
    return { t: 'template', pos: tok.pos, line: tok.line, name, pipe };
  }

  private blockControl(): Node {
    const context = 'block clause';
    const tok = this.nextNonSpace();
    const name = this.templateName(tok, context);
    const pipe = this.pipeline(context, 'rightDelim');
    const savedVars = this.vars;
    this.vars = ['$'];
    const [list, end] = this.itemList();
    this.vars = savedVars;
    if (end.t !== 'end') this.errorf(`unexpected {{${end.t}}} in ${context}`);
    this.addDef(name, list);
    return { t: 'template', pos: tok.pos, line: tok.line, name, pipe };
  }

  private pipeline(context: string, end: ItemType): PipeNode {
    const start = this.peekNonSpace();
    const pipe: PipeNode = { pos: start.pos, line: start.line, isAssign: false, decl: [], cmds: [] };
    for (;;) {
      const v = this.peekNonSpace();
      if (v.typ !== 'variable') break;
      const at = this.i;
      this.nextNonSpace();
      const nx = this.peekNonSpace();
      if (nx.typ === 'assign' || nx.typ === 'declare') {
        pipe.isAssign = nx.typ === 'assign';
        this.nextNonSpace();
        pipe.decl.push(v.val);
        if (pipe.isAssign && !this.vars.includes(v.val)) this.errorf(`undefined variable "${v.val}"`);
        if (!pipe.isAssign) this.vars.push(v.val);
        break;
      }
      if (nx.typ === 'comma') {
        this.nextNonSpace();
        pipe.decl.push(v.val);
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const p = this.peekNonSpace().typ;
          if (p === 'variable' || p === 'rightDelim' || p === 'rightParen') continue;
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      }
      // Not a declaration: put the variable back for the command parser.
      this.i = at;
      break;
    }
    for (;;) {
      const tok = this.nextNonSpace();
      if (tok.typ === end) {
        this.checkPipeline(pipe, context);
        return pipe;
      }
      switch (tok.typ) {
        case 'bool': case 'char': case 'dot': case 'field': case 'identifier': case 'number':
        case 'nil': case 'rawString': case 'string': case 'variable': case 'leftParen':
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(tok, context);
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const t = c.args[0]!.t;
      if (t === 'bool' || t === 'dot' || t === 'nil' || t === 'number' || t === 'string') {
        this.errorf(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  private command(): CommandNode {
    const cmd: CommandNode = { pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const op = this.operand();
      if (op) cmd.args.push(op);
      const tok = this.next();
      if (tok.typ === 'space') continue;
      if (tok.typ === 'rightDelim' || tok.typ === 'rightParen') this.backup();
      else if (tok.typ !== 'pipe') this.unexpected(tok, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  private operand(): ArgNode | null {
    let node = this.term();
    if (!node) return null;
    if (this.peek().typ === 'field') {
      const pos = this.peek().pos;
      const fields: string[] = [];
      while (this.peek().typ === 'field') fields.push(this.next().val.slice(1));
      switch (node.t) {
        case 'field':
          node = { t: 'field', pos, idents: [...node.idents, ...fields] };
          break;
        case 'variable':
          node = { t: 'variable', pos, idents: [...node.idents, ...fields] };
          break;
        case 'bool': case 'string': case 'number': case 'nil': case 'dot':
          this.errorf(`unexpected . after term ${JSON.stringify(argStringShort(node))}`);
        default:
          node = { t: 'chain', pos, node, fields };
      }
    }
    return node;
  }

  private term(): ArgNode | null {
    const tok = this.nextNonSpace();
    switch (tok.typ) {
      case 'identifier':
        if (!this.hasFunc(tok.val)) this.errorf(`function "${tok.val}" not defined`, tok.line);
        return { t: 'identifier', pos: tok.pos, name: tok.val };
      case 'dot': return { t: 'dot', pos: tok.pos };
      case 'nil': return { t: 'nil', pos: tok.pos };
      case 'variable': {
        const idents = tok.val.split('.');
        if (!this.vars.includes(idents[0]!)) this.errorf(`undefined variable "${idents[0]}"`, tok.line);
        return { t: 'variable', pos: tok.pos, idents };
      }
      case 'field': return { t: 'field', pos: tok.pos, idents: [tok.val.slice(1)] };
      case 'bool': return { t: 'bool', pos: tok.pos, value: tok.val === 'true' };
      case 'char':
      case 'number': {
        const n = parseGoNumber(tok.val, tok.typ === 'char');
        if (typeof n === 'string') this.errorf(n, tok.line);
        return { t: 'number', pos: tok.pos, text: tok.val, value: n.value, isFloat: n.isFloat };
      }
      case 'leftParen': {
        const pipe = this.pipeline('parenthesized pipeline', 'rightParen');
        return { t: 'pipe', pos: tok.pos, pipe };
      }
      case 'string':
      case 'rawString':
        return { t: 'string', pos: tok.pos, quoted: tok.val, text: this.unquote(tok) };
    }
    this.backup();
    return null;
  }

  private unquote(tok: Item): string {
    const r = unquoteGo(tok.val);
    if (r === null) this.errorf('invalid syntax', tok.line);
    return r;
  }
}

function argStringShort(n: ArgNode): string {
  switch (n.t) {
    case 'bool': return String(n.value);
    case 'string': return n.quoted;
    case 'number': return n.text;
    case 'nil': return 'nil';
    default: return '.';
  }
}

function isEmptyTree(l: ListNode): boolean {
  return l.nodes.every((n) => (n.t === 'text' && n.text.trim() === '') || n.t === 'comment');
}

function itemString(it: Item): string {
  if (it.typ === 'eof') return 'EOF';
  if (it.typ === 'keyword') return `<${it.val}>`;
  const q = JSON.stringify(it.val);
  if (it.val.length > 10) return JSON.stringify(it.val.slice(0, 10)) + '...';
  return q;
}
