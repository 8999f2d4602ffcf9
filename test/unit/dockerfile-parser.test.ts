import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDockerfile, astRoot } from '../../src/builder/dockerfile/parser.js';
import { dumpAst } from '../../src/builder/dockerfile/ast.js';
import { DockerfileParseError } from '../../src/builder/dockerfile/errors.js';
import { vectorsDir } from './dockerfile-vectors.js';

const parserDir = join(vectorsDir, 'parser');
const cases = readdirSync(parserDir).sort();

test('parser vectors are present', () => {
  assert.ok(cases.length >= 20, `found ${cases.length} parser vectors in ${parserDir}`);
});

for (const name of cases) {
  test(`parser vector ${name}`, () => {
    const src = readFileSync(join(parserDir, name, 'Dockerfile'), 'utf8');
    const want = readFileSync(join(parserDir, name, 'result'), 'utf8');
    const got = dumpAst(astRoot(parseDockerfile(src))) + '\n';
    assert.equal(got, want);
  });
}

function dump(src: string): string {
  return dumpAst(astRoot(parseDockerfile(src)));
}

function parseError(src: string): DockerfileParseError {
  try {
    parseDockerfile(src);
  } catch (e) {
    assert.ok(e instanceof DockerfileParseError, String(e));
    return e;
  }
  assert.fail('expected a parse error');
}

test('directives: escape, syntax, check at the top only', () => {
  const r = parseDockerfile('# syntax=docker/dockerfile:1\n# check=skip=all\n#escape=`\nFROM a\nRUN echo `\n  b\n# escape=\\\n');
  assert.deepEqual(r.directives.map((d) => [d.name, d.value, d.line]), [
    ['syntax', 'docker/dockerfile:1', 1], ['check', 'skip=all', 2], ['escape', '`', 3],
  ]);
  assert.equal(r.escapeToken, '`');
  assert.equal(dumpAst(astRoot(r)), '(from "a")\n(run "echo   b")');
  // after any other line, a directive-looking comment is a comment
  const late = parseDockerfile('# hello\n# escape=`\nFROM a\n');
  assert.deepEqual(late.directives, []);
  assert.equal(late.escapeToken, '\\');
});

test('directives: repeated or invalid escape', () => {
  const e = parseError('# escape=`\n# escape=\\\nFROM a\n');
  assert.equal(e.detail, 'only one escape parser directive can be used');
  assert.equal(e.startLine, 2);
  assert.equal(parseError('# escape=x\nFROM a\n').detail, "invalid escape token 'x' does not match ` or \\");
});

test('continuations skip comment lines and warn on empty lines', () => {
  const r = parseDockerfile('FROM a\nRUN a \\\n# comment\n  b \\\n\n  c\n');
  assert.equal(dumpAst(astRoot(r)), '(from "a")\n(run "a   b   c")');
  assert.equal(r.warnings.length, 1);
  assert.equal(r.warnings[0]!.short, 'Empty continuation line found in: RUN a   b   c');
  assert.deepEqual([r.children[1]!.startLine, r.children[1]!.endLine], [2, 6]);
});

test('escaped escape token is not a continuation', () => {
  assert.equal(dump('FROM a\nRUN echo \\\\\nRUN b\n'), '(from "a")\n(run "echo \\\\\\\\")\n(run "b")');
});

test('instruction names are case-insensitive and keep their case in the node', () => {
  const r = parseDockerfile('from a\nRuN b\n');
  assert.equal(r.children[1]!.value, 'RuN');
  assert.equal(dumpAst(astRoot(r)), '(from "a")\n(run "b")');
});

test('flags are split off, quotes inside flags interpreted', () => {
  const r = parseDockerfile('FROM a\nCOPY --from=b --chown="1:2" -- x y\nRUN --mount=type=cache,target=/c make\n');
  assert.deepEqual(r.children[1]!.flags, ['--from=b', '--chown=1:2']);
  assert.equal(dumpAst(r.children[1]!), 'copy ["--from=b" "--chown=1:2"] "x" "y"');
  assert.deepEqual(r.children[2]!.flags, ['--mount=type=cache,target=/c']);
});

test('ONBUILD nests the trigger instruction', () => {
  assert.equal(dump('FROM a\nONBUILD RUN echo hi\nONBUILD COPY ["a", "b"] \n'),
    '(from "a")\n(onbuild (run "echo hi"))\n(onbuild (copy "a" "b"))');
});

test('JSON with non-string elements is an error; trailing text after the array is ignored', () => {
  const e = parseError('FROM a\nCMD ["a", 1]\n');
  assert.equal(e.message, 'dockerfile parse error on line 2: when using JSON array syntax, arrays must be comprised of strings only');
  assert.equal(dump('FROM a\nCMD ["a"] b\n'), '(from "a")\n(cmd "a")');
});

test('ENV legacy form needs two arguments; new form needs =', () => {
  assert.equal(parseError('FROM a\nENV foo\n').detail, 'ENV must have two arguments');
  assert.equal(parseError('FROM a\nENV a=b c\n').detail, 'Syntax error - can\'t find = in "c". Must be of the form: name=value');
  assert.equal(parseError('FROM a\nLABEL x\n').detail, 'LABEL must have two arguments');
});

test('empty file', () => {
  assert.equal(parseError('# only a comment\n\n').detail, 'file with no instructions');
});

test('BOM and CRLF', () => {
  assert.equal(dump('\ufeffFROM a\r\nRUN b \\\r\n c\r\n'), '(from "a")\n(run "b  c")');
});

test('heredocs: RUN, several per line, chomp, quoted delimiters', () => {
  const r = parseDockerfile([
    'FROM a',
    'RUN <<EOF',
    'echo $HOME',
    'EOF',
    'COPY <<one <<"two" /dst/',
    'first',
    'one',
    'second $X',
    'two',
    'RUN <<-EOT bash',
    '\techo tab',
    '\tEOT',
    'RUN 3<<\'A\'',
    'x',
    'A',
    'RUN ["echo", "<<EOF"]',
    '',
  ].join('\n'));
  const [, run, copy, chomp, fd, json] = r.children;
  assert.deepEqual(run!.heredocs, [{ name: 'EOF', fileDescriptor: 0, expand: true, chomp: false, content: 'echo $HOME\n' }]);
  assert.deepEqual([run!.startLine, run!.endLine], [2, 4]);
  assert.deepEqual(copy!.heredocs.map((h) => [h.name, h.expand, h.content]), [['one', true, 'first\n'], ['two', false, 'second $X\n']]);
  assert.equal(dumpAst(copy!), 'copy "<<one" "<<\\"two\\"" "/dst/"');
  assert.deepEqual(chomp!.heredocs.map((h) => [h.name, h.chomp, h.content]), [['EOT', true, '\techo tab\n']]);
  assert.deepEqual(fd!.heredocs.map((h) => [h.name, h.fileDescriptor, h.expand]), [['A', 3, false]]);
  assert.deepEqual(json!.heredocs, []);
});

test('heredoc without terminator', () => {
  const e = parseError('FROM a\nRUN <<EOF\necho\n');
  assert.equal(e.message, 'dockerfile parse error on line 2: unterminated heredoc');
});

test('unknown instruction parses (the instruction model rejects it)', () => {
  assert.equal(dump('FROM a\nFOO bar\n'), '(from "a")\n(foo "")');
});

test('HEALTHCHECK NONE and CMD forms', () => {
  assert.equal(dump('FROM a\nHEALTHCHECK NONE\nHEALTHCHECK --retries=2 CMD ["x"]\n'),
    '(from "a")\n(healthcheck "NONE")\n(healthcheck ["--retries=2"] "CMD" "x")');
});
