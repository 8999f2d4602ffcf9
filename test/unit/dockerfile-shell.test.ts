import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ShellLex, ShellLexError, buildEnvs, patternRegex, reversePattern } from '../../src/builder/dockerfile/shell-lex.js';
import { vectorsDir } from './dockerfile-vectors.js';

// The environment BuildKit's lex_test.go sets up for envVarTest; we run the unix (U) and
// all-platform (A) lines, as BuildKit does on Linux.
const envVarEnv = ['PWD=/home', 'SHELL=bash', 'KOREAN=한국어', 'NULL='];

const envVarLines = readFileSync(join(vectorsDir, 'shell', 'envVarTest'), 'utf8').split('\n');
let envVarCount = 0;
envVarLines.forEach((raw, i) => {
  if (raw.startsWith('#')) return;
  const line = raw.trim();
  if (line === '') return;
  const parts = line.split('|');
  assert.equal(parts.length, 3, `envVarTest line ${i + 1}`);
  const [platform, source, expected] = parts.map((p) => p.trim()) as [string, string, string];
  if (platform === 'W') {
    test(`envVarTest:${i + 1} ${source}`, { skip: 'Windows-only line (case-insensitive variable names)' }, () => {});
    return;
  }
  assert.ok(platform === 'A' || platform === 'U', `envVarTest line ${i + 1}: platform ${platform}`);
  envVarCount++;
  test(`envVarTest:${i + 1} ${source}`, () => {
    const lex = new ShellLex('\\');
    for (const env of [envVarEnv, buildEnvs(envVarEnv)]) {
      if (expected === 'error') {
        assert.throws(() => lex.processWord(source, env), ShellLexError);
      } else {
        assert.equal(lex.processWord(source, env), expected);
      }
    }
  });
});

test('envVarTest has its lines', () => {
  assert.ok(envVarCount > 200, `ran ${envVarCount} envVarTest lines`);
});

const wordsLines = readFileSync(join(vectorsDir, 'shell', 'wordsTest'), 'utf8').split('\n');
const wordsEnv: string[] = [];
let wordsCount = 0;
wordsLines.forEach((line, i) => {
  if (line.startsWith('#') || line === '') return;
  if (line.startsWith('ENV ')) {
    // the env lines accumulate: each test sees the ENV lines above it
    wordsEnv.push(line.slice(3).replace(/^ +/, ''));
    return;
  }
  const parts = line.split('|');
  assert.equal(parts.length, 2, `wordsTest line ${i + 1}`);
  const input = parts[0]!.trim();
  const expected = parts[1]!.replace(/^ +/, '').split(',');
  const env = [...wordsEnv];
  wordsCount++;
  test(`wordsTest:${i + 1} ${input}`, () => {
    const lex = new ShellLex('\\');
    for (const e of [env, buildEnvs(env)]) {
      let got: string[];
      try {
        got = lex.processWords(input, e);
      } catch {
        got = ['error'];
      }
      assert.deepEqual(got, expected);
    }
  });
});

test('wordsTest has its lines', () => {
  assert.ok(wordsCount > 20, `ran ${wordsCount} wordsTest lines`);
});

const lex = new ShellLex('\\');

test('mandatory variables ${VAR:?msg} and ${VAR?msg}', () => {
  const set = ['VAR=plain', 'ARG=x'];
  const empty = ['VAR=', 'ARG=x'];
  const unset = ['ARG=x'];
  assert.equal(lex.processWord('${VAR:?message here$ARG}', set), 'plain');
  assert.throws(() => lex.processWord('${VAR:?message here$ARG}', empty), /VAR: message herex/);
  assert.throws(() => lex.processWord('${VAR:?message here$ARG}', unset), /message herex/);
  assert.equal(lex.processWord('${VAR?message here$ARG}', empty), '');
  assert.throws(() => lex.processWord('${VAR?}', unset), /VAR: is not allowed to be unset/);
  assert.throws(() => lex.processWord('${VAR:?}', empty), /VAR: is not allowed to be empty/);
});

test('error messages name the word', () => {
  assert.throws(() => lex.processWord('a${}', []), { message: 'failed to process "a${}": syntax error: bad substitution' });
  assert.throws(() => lex.processWord('${a', []), { message: 'failed to process "${a": unsupported modifier (\ufffd) in substitution' });
  assert.throws(() => lex.processWord('${a:=b}', []), { message: 'failed to process "${a:=b}": unsupported modifier (:=) in substitution' });
  assert.throws(() => lex.processWord("'abc", []), /unexpected end of statement while looking for matching single-quote/);
});

const matchCases: [string, Record<string, string>, string | null][] = [
  ['${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}', { FOO: 'xxx', BAR: '' }, 'xxx  ccc'],
  ['${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}', { FOO: 'xxx', BAR: '' }, 'xxx bbb ccc'],
  ['${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}', { FOO: 'xxx', BAR: '' }, 'aaa bbb '],
  ['${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}', { FOO: 'xxx', BAR: '' }, 'aaa  '],
  ['${FOO=aaa}', { FOO: 'xxx' }, null],
  ['${FOO#()[]{\\}^$.\\*\\?|\\\\}', { FOO: '()[]{}^$.*?|\\x' }, 'x'],
  ['${FOO%%\\**}', { FOO: 'xx**' }, 'xx'],
  ['${FOO#*x*y}', { FOO: 'xxyy' }, 'y'],
  ['${FOO#*}', { FOO: 'xxyy' }, 'xxyy'],
  ['${FOO#$BAR}', { FOO: 'xxyy', BAR: 'x' }, 'xyy'],
  ['${FOO##*x}', { FOO: 'xxyy' }, 'yy'],
  ['${FOO#?\\?}', { FOO: '???y' }, '?y'],
  ['${ABC:-.}${FOO%x}${ABC:-.}', { FOO: 'xxyy' }, '.xxyy.'],
  ['${FOO%%\\**\\*}', { FOO: 'a***yy*' }, 'a'],
  ['${FOO%y*}', { FOO: 'xxyy' }, 'xxy'],
  ['${FOO%%y*}', { FOO: 'xxyy' }, 'xx'],
  ['${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}', { FOO: '/foo*/*/*.txt', NEEDLE: '\\*/' }, '/foo.*/*.txt - /foo..*.txt'],
  ['${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}', { FOO: '/tmp/tmp/bar.txt', NEEDLE: '/tmp' }, '/tmp/bar.txt - /bar.txt'],
  ['${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}', { FOO: '/a/foo/b/c.txt', NEEDLE: '/?/', REPLACEMENT: '/' }, '/foo/b/c.txt - /foo/c.txt'],
  ['${FOO/$NEEDLE/$REPLACEMENT}', { FOO: 'http://google.de', NEEDLE: 'http://', REPLACEMENT: 'https://' }, 'https://google.de'],
  ['${FOO//\\//\\/}', { FOO: '/tmp/foo.txt' }, '\\/tmp\\/foo.txt'],
  ['${FOO/$BAR/ww}', { FOO: 'xxyy', BAR: '' }, 'wwxxyy'],
  ['${FOO//ww}', { FOO: 'xxyy' }, null],
  ['${FOO//}', { FOO: 'xxyy' }, null],
  ['${FOO///}', { FOO: 'xxyy' }, 'xxyy'],
  ['${FOO///}', {}, ''],
  ['something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz',
    { VERSION: 'v1.2.3', TARGETOS: 'linux', TARGETARCH: 'arm', TARGETVARIANT: 'v7' }, 'something-v1.2.3.linux-arm-v7.tar.gz'],
];

for (const [input, env, want] of matchCases) {
  test(`expansion ${input}`, () => {
    if (want === null) assert.throws(() => lex.processWord(input, env), ShellLexError);
    else assert.equal(lex.processWord(input, env), want);
  });
}

test('matched and unmatched variables are reported', () => {
  const r = lex.process('${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}', { FOO: 'xxx', BAR: '' });
  assert.deepEqual([...r.matched].sort(), ['BAR', 'FOO']);
  assert.deepEqual([...r.unmatched], ['BAZ']);
});

test('skipUnsetEnv and rawQuotes keep what cannot be expanded yet', () => {
  const l = new ShellLex('\\', { skipUnsetEnv: true, rawQuotes: true });
  assert.equal(l.processWord('$A ${B} ${C:-x} "q" ${D/a/b}', { }), '$A ${B} ${C:-x} "q" ${D/a/b}');
});

test('backtick escape token', () => {
  const l = new ShellLex('`');
  assert.equal(l.processWord('a`$b\\c', { b: 'B' }), 'a$b\\c');
  assert.equal(l.processWord('"x`"y"', {}), 'x"y');
});

test('pattern helpers', () => {
  assert.equal(patternRegex('*', true, true).source, '^.*');
  assert.equal(patternRegex('\\*', true, true).source, '^\\*');
  for (const bad of ['\\', '\\x', '\\\\\\']) assert.throws(() => patternRegex(bad, true, true));
  assert.equal(reversePattern('a\\*c'), 'c\\*a');
  assert.equal(reversePattern('\\\\\\ab'), 'b\\a\\\\');
  assert.equal(reversePattern('ab\\'), '\\ba');
});
