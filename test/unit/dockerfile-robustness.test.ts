import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from '../../src/builder/dockerfile/parser.js';
import { parseStages } from '../../src/builder/dockerfile/instructions.js';
import { DockerfileParseError } from '../../src/builder/dockerfile/errors.js';
import { ShellLex, ShellLexError } from '../../src/builder/dockerfile/shell-lex.js';

// Deterministic pseudo-random inputs built from Dockerfile-ish fragments: whatever the input,
// the frontend must either succeed or fail with its own error types, never crash.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const fragments = [
  'FROM ', 'RUN ', 'COPY ', 'ADD ', 'ENV ', 'ARG ', 'LABEL ', 'ONBUILD ', 'HEALTHCHECK ', 'CMD ', 'SHELL ', 'EXPOSE ',
  'WORKDIR ', 'USER ', 'VOLUME ', 'STOPSIGNAL ', 'MAINTAINER ', 'ENTRYPOINT ', 'FOO ', 'AS ', '--from=', '--mount=', 'type=cache,',
  '<<EOF', '<<-', 'EOF', '"', "'", '\\', '`', '$', '${', '}', ':-', '#', '# escape=`', '[', ']', ',', '=', ' ', '\t', '\n', '\r\n',
  'a', 'b/c', '한', '\u00a0', '%', '/', '*', '?',
];

test('random Dockerfiles parse or fail cleanly', () => {
  const next = rng(42);
  for (let i = 0; i < 3000; i++) {
    let src = '';
    const n = 1 + Math.floor(next() * 25);
    for (let j = 0; j < n; j++) src += fragments[Math.floor(next() * fragments.length)];
    try {
      parseStages(parseDockerfile(src).children);
    } catch (e) {
      assert.ok(e instanceof DockerfileParseError, `${JSON.stringify(src)}: ${String(e)}`);
    }
  }
});

test('random words expand or fail cleanly', () => {
  const next = rng(7);
  const lex = new ShellLex('\\');
  for (let i = 0; i < 3000; i++) {
    let src = '';
    const n = 1 + Math.floor(next() * 12);
    for (let j = 0; j < n; j++) src += fragments[Math.floor(next() * fragments.length)];
    try {
      lex.processWords(src, { a: 'x y', b: '' });
    } catch (e) {
      assert.ok(e instanceof ShellLexError, `${JSON.stringify(src)}: ${String(e)}`);
    }
  }
});
