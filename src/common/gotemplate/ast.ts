// Parse tree for Go templates; String forms match text/template/parse so
// error contexts ("at <.Foo>") read like Go's.

export type ArgNode =
  | { t: 'field'; pos: number; idents: string[] }
  | { t: 'variable'; pos: number; idents: string[] }
  | { t: 'chain'; pos: number; node: ArgNode; fields: string[] }
  | { t: 'identifier'; pos: number; name: string }
  | { t: 'dot'; pos: number }
  | { t: 'nil'; pos: number }
  | { t: 'bool'; pos: number; value: boolean }
  | { t: 'number'; pos: number; text: string; value: number; isFloat: boolean }
  | { t: 'string'; pos: number; quoted: string; text: string }
  | { t: 'pipe'; pos: number; pipe: PipeNode };

export interface CommandNode {
  pos: number;
  args: ArgNode[];
}

export interface PipeNode {
  pos: number;
  line: number;
  isAssign: boolean;
  decl: string[];
  cmds: CommandNode[];
}

export type Node =
  | { t: 'list'; pos: number; nodes: Node[] }
  | { t: 'text'; pos: number; text: string }
  | { t: 'action'; pos: number; line: number; pipe: PipeNode }
  | { t: 'if' | 'range' | 'with'; pos: number; line: number; pipe: PipeNode; list: ListNode; elseList: ListNode | null }
  | { t: 'template'; pos: number; line: number; name: string; pipe: PipeNode | null }
  | { t: 'break' | 'continue'; pos: number; line: number }
  | { t: 'comment'; pos: number; text: string };

export type ListNode = Extract<Node, { t: 'list' }>;

export function argString(a: ArgNode): string {
  switch (a.t) {
    case 'field': return a.idents.map((i) => '.' + i).join('');
    case 'variable': return a.idents.join('.');
    case 'chain': {
      const inner = a.node.t === 'pipe' ? `(${argString(a.node)})` : argString(a.node);
      return inner + a.fields.map((f) => '.' + f).join('');
    }
    case 'identifier': return a.name;
    case 'dot': return '.';
    case 'nil': return 'nil';
    case 'bool': return String(a.value);
    case 'number': return a.text;
    case 'string': return a.quoted;
    case 'pipe': return pipeString(a.pipe);
  }
}

export function commandString(c: CommandNode): string {
  return c.args.map((a) => (a.t === 'pipe' ? `(${argString(a)})` : argString(a))).join(' ');
}

export function pipeString(p: PipeNode): string {
  let s = '';
  if (p.decl.length > 0) s = p.decl.join(', ') + (p.isAssign ? ' = ' : ' := ');
  return s + p.cmds.map(commandString).join(' | ');
}
