// Heredoc delimiters (`<<EOF`, `<<-EOF`, `3<<"EOF"`) found in the words of RUN/COPY/ADD lines.
import type { Heredoc } from './ast.js';
import { ShellLex } from './shell-lex.js';

// `<< EOF` (space before the delimiter) is accepted too
const reHeredoc = /^(\d*)<<(-?)\s*([^<]*)$/;

/** The heredoc a single word introduces, or null when the word is not one. */
export function parseHeredoc(word: string): Heredoc | null {
  const m = reHeredoc.exec(word);
  if (!m) return null;
  const rest = m[3]!;
  if (rest === '') return null;
  const lex = new ShellLex('\\', { skipUnsetEnv: true });
  const words = lex.processWords(rest, []);
  if (words.length !== 1) return null;
  // lexing with and without quotes kept tells whether any part of the delimiter was quoted
  lex.rawQuotes = true;
  const raw = lex.processWords(rest, []);
  if (raw.length !== words.length) {
    throw new Error(`internal lexing of heredoc produced inconsistent results: ${rest}`);
  }
  const quotes = (s: string) => (s.match(/['"]/g) ?? []).length;
  return {
    name: words[0]!,
    fileDescriptor: m[1] === '' ? 0 : Number.parseInt(m[1]!, 10),
    expand: quotes(words[0]!) === quotes(raw[0]!),
    chomp: m[2] === '-',
    content: '',
  };
}

/** Every heredoc a line opens, in order. */
export function heredocsFromLine(line: string): Heredoc[] {
  const lex = new ShellLex('\\', { rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
  let words: string[];
  try {
    words = lex.processWords(line, []);
  } catch {
    words = [];
  }
  const docs: Heredoc[] = [];
  for (let i = 0; i < words.length; i++) {
    let w = words[i]!;
    // a lone `<<` / `<<-` takes the next word as its delimiter
    if (/^\d*<<-?$/.test(w) && i + 1 < words.length) w += ' ' + words[++i]!;
    const h = parseHeredoc(w);
    if (h) docs.push(h);
  }
  return docs;
}

/** `<<-` content: leading tabs removed from every line. */
export function chompHeredocContent(src: string): string {
  return src.replace(/^\t+/gm, '');
}
