// Dockerfile text to AST, line handling as BuildKit's parser does it: parser directives at the
// top, comments, escape-token line continuations (with comment and empty lines inside them),
// and heredoc bodies after the line that opens them.
import { newNode, type Heredoc, type Node } from './ast.js';
import { DockerfileParseError, errorText } from './errors.js';
import { trimLeftSpace, trimSpace } from './go-text.js';
import { heredocsFromLine } from './heredoc.js';
import { newNodeFromLine, type LineContext } from './line-parsers.js';

export interface Directive {
  name: 'syntax' | 'escape' | 'check';
  value: string;
  line: number;
}

export interface ParseWarning {
  short: string;
  detail: string;
  url: string;
  line: number;
}

export interface ParseResult {
  directives: Directive[];
  escapeToken: string;
  children: Node[];
  warnings: ParseWarning[];
}

const reDirective = /^([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*$/;
const validDirectives = new Set(['syntax', 'escape', 'check']);
const heredocInstructions = new Set(['add', 'copy', 'run']);

/** Directive and escape state; directives are only recognised until the first other line. */
class Directives implements LineContext {
  escapeToken = '\\';
  continuation = /([^\\])\\[ \t]*$|^\\[ \t]*$/;
  done = false;
  readonly seen: Directive[] = [];

  setEscapeToken(s: string): void {
    if (s !== '`' && s !== '\\') throw new Error(`invalid escape token '${s}' does not match \` or \\`);
    this.escapeToken = s;
    const e = '\\' + s;
    // the token ends a line as a continuation unless it is itself escaped
    this.continuation = new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
  }

  possibleDirective(line: string, lineNo: number): void {
    if (this.done) return;
    if (!line.startsWith('#')) {
      this.done = true;
      return;
    }
    const m = reDirective.exec(trimLeftSpace(line.slice(1)));
    const key = m?.[1]?.toLowerCase();
    if (!m || !key || !validDirectives.has(key)) {
      this.done = true;
      return;
    }
    if (this.seen.some((d) => d.name === key)) throw new Error(`only one ${key} parser directive can be used`);
    this.seen.push({ name: key as Directive['name'], value: m[2]!, line: lineNo });
    if (key === 'escape') this.setEscapeToken(m[2]!);
  }
}

/** Lines with their terminators kept (heredoc bodies need them). */
function scanLines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const i = text.indexOf('\n', start);
    if (i < 0) break;
    out.push(text.slice(start, i + 1));
    start = i + 1;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

const trimNewline = (s: string) => s.replace(/[\r\n]+$/, '');
const isComment = (s: string) => trimLeftSpace(trimNewline(s)).startsWith('#');
const isEmptyContinuationLine = (s: string) => trimLeftSpace(trimNewline(s)) === '';

function canContainHeredoc(node: Node): boolean {
  let n = node;
  if (n.value.toLowerCase() === 'onbuild' && n.next && n.next.children.length > 0) n = n.next.children[0]!;
  return heredocInstructions.has(n.value.toLowerCase()) && !n.attributes.json;
}

/**
 * Parses a Dockerfile into BuildKit's AST. Throws DockerfileParseError (with the line) on
 * malformed input; unknown instructions are not an error here, only in the instruction model.
 */
export function parseDockerfile(text: string): ParseResult {
  const d = new Directives();
  const lines = scanLines(text);
  const children: Node[] = [];
  const warnings: ParseWarning[] = [];
  let comments: string[] = [];
  let idx = 0;
  let currentLine = 0;

  const processLine = (raw: string, stripLeft: boolean, lineNo: number): string => {
    let token = trimNewline(raw);
    if (stripLeft) token = trimLeftSpace(token);
    try {
      d.possibleDirective(token, lineNo);
    } catch (e) {
      throw new DockerfileParseError(errorText(e), lineNo);
    }
    // a line starting with # is a comment only when # is its first character (after the left trim)
    return token.startsWith('#') ? '' : token;
  };
  const trimContinuation = (line: string): [string, boolean] => {
    if (d.continuation.test(line)) return [line.replace(d.continuation, '$1'), false];
    return [line, true];
  };

  while (idx < lines.length) {
    let raw = lines[idx++]!;
    if (currentLine === 0 && raw.startsWith('\ufeff')) raw = raw.slice(1);
    if (isComment(raw)) {
      const comment = trimSpace(trimNewline(raw).slice(1));
      if (comment === '') comments = [];
      else comments.push(comment);
    }
    const first = processLine(raw, true, currentLine + 1);
    currentLine++;
    const startLine = currentLine;
    let [line, isEnd] = trimContinuation(first);
    if (isEnd && line === '') continue;

    let hasEmptyContinuation = false;
    while (!isEnd && idx < lines.length) {
      const next = lines[idx++]!;
      const processed = processLine(next, false, currentLine + 1);
      currentLine++;
      if (isComment(next)) continue;
      if (isEmptyContinuationLine(processed)) {
        hasEmptyContinuation = true;
        continue;
      }
      let part: string;
      [part, isEnd] = trimContinuation(processed);
      line += part;
    }
    if (hasEmptyContinuation) {
      warnings.push({
        short: 'Empty continuation line found in: ' + line,
        detail: 'Empty continuation lines will become errors in a future release',
        url: 'https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/',
        line: currentLine,
      });
    }

    let child: Node;
    try {
      child = newNodeFromLine(line, d, comments);
    } catch (e) {
      throw new DockerfileParseError(errorText(e), startLine, currentLine);
    }

    if (canContainHeredoc(child) && line.includes('<<')) {
      let docs: Heredoc[];
      try {
        docs = heredocsFromLine(line);
      } catch (e) {
        throw new DockerfileParseError(errorText(e), startLine, currentLine);
      }
      for (const doc of docs) {
        let terminated = false;
        while (idx < lines.length) {
          const body = lines[idx++]!;
          currentLine++;
          let candidate = trimNewline(body);
          if (doc.chomp) candidate = candidate.replace(/^\t+/, '');
          if (candidate === doc.name) {
            terminated = true;
            break;
          }
          doc.content += body;
        }
        if (!terminated) throw new DockerfileParseError('unterminated heredoc', startLine, currentLine);
        child.heredocs.push(doc);
      }
    }

    child.startLine = startLine;
    child.endLine = currentLine;
    children.push(child);
    comments = [];
  }

  if (children.length === 0) throw new DockerfileParseError('file with no instructions', currentLine);

  return { directives: d.seen, escapeToken: d.escapeToken, children, warnings };
}

/** The root node (children = instructions), for callers that want BuildKit's whole tree. */
export function astRoot(result: ParseResult): Node {
  const root = newNode();
  root.children = result.children;
  root.startLine = result.children[0]?.startLine ?? 0;
  root.endLine = result.children[result.children.length - 1]?.endLine ?? 0;
  return root;
}
