// The Dockerfile AST in BuildKit's shape: one Node per instruction under the root, its
// arguments chained through `next`, ONBUILD's trigger as a child of the first argument.
import { goQuote, goQuoteList } from './go-text.js';

export interface Heredoc {
  name: string;
  fileDescriptor: number;
  /** false when any part of the delimiter was quoted: the content is then taken literally */
  expand: boolean;
  /** `<<-`: leading tabs are stripped from the content and the terminator */
  chomp: boolean;
  content: string;
}

export interface Node {
  /** instruction name as written (case kept), or an argument's text */
  value: string;
  next: Node | null;
  children: Node[];
  heredocs: Heredoc[];
  attributes: { json?: boolean };
  /** the whole logical line, continuations joined */
  original: string;
  flags: string[];
  startLine: number;
  endLine: number;
  prevComment: string[];
}

export function newNode(value = '', next: Node | null = null): Node {
  return {
    value, next, children: [], heredocs: [], attributes: {}, original: '', flags: [],
    startLine: 0, endLine: 0, prevComment: [],
  };
}

/** BuildKit's `Node.Dump()`: the s-expression format of the parser test vectors' `result` files. */
export function dumpAst(node: Node): string {
  let str = node.value.toLowerCase();
  if (node.flags.length > 0) str += ' ' + goQuoteList(node.flags);
  for (const c of node.children) str += '(' + dumpAst(c) + ')\n';
  for (let n = node.next; n; n = n.next) {
    str += ' ' + (n.children.length > 0 ? dumpAst(n) : goQuote(n.value));
  }
  return str.trim();
}

/** The argument values of an instruction node, with ONBUILD's trigger flattened in. */
export function nodeArgs(node: Node): string[] {
  const out: string[] = [];
  for (let n = node.next; n; n = n.next) {
    if (n.children.length === 0) {
      out.push(n.value);
    } else if (n.children.length === 1) {
      const sub = n.children[0]!;
      out.push(sub.value, ...nodeArgs(sub));
    }
  }
  return out;
}
