import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from '../../src/builder/dockerfile/parser.js';
import { chompHeredocContent, heredocsFromLine, parseHeredoc } from '../../src/builder/dockerfile/heredoc.js';
import type { Heredoc } from '../../src/builder/dockerfile/ast.js';

const doc = (name: string, content: string, extra: Partial<Heredoc> = {}): Heredoc => ({
  name, content, expand: true, chomp: false, fileDescriptor: 0, ...extra,
});

test('heredocs extracted from a Dockerfile (BuildKit parser_heredoc cases)', () => {
  const src = `
FROM alpine:3.6

ENV NAME=me

RUN ls

USER <<INVALID
INVALID

RUN <<EMPTY
EMPTY

RUN 3<<EMPTY2
EMPTY2

RUN "<<NOHEREDOC"

RUN <<INDENT
\tfoo
\tbar
INDENT

RUN <<-UNINDENT
\tbaz
\tquux
UNINDENT

RUN <<-UNINDENT2
\tbaz
\tquux
\tUNINDENT2

RUN <<-EXPAND
\texpand $NAME
EXPAND

RUN <<-'NOEXPAND'
\tdon't expand $NAME
NOEXPAND

RUN <<COPY
echo hello world
echo foo bar
COPY

RUN <<COMMENT
# internal comment
echo hello world
echo foo bar # trailing comment
COMMENT

RUN --mount=type=cache,target=/foo <<MOUNT
echo hello
MOUNT

COPY <<FILE1 <<FILE2 /dest
content 1
FILE1
content 2
FILE2

COPY <<EOF /quotes
"foo"
'bar'
EOF

COPY <<X <<Y /dest
Y
X
X
Y

RUN <<COMPLEX python3
print('hello world')
COMPLEX

COPY <<file.txt /dest
hello world
file.txt

RUN <<eo'f'
echo foo
eof

RUN <<eo\\'f
echo foo
eo'f

RUN <<'e'o\\'f
echo foo
eo'f

RUN <<'one two'
echo bar
one two

RUN <<$EOF
$EOF

RUN <<  EOF
EOF

RUN <<  EOF  > foo
EOF
\t`;
  const want: Heredoc[][] = [
    [], [], [], [],
    [doc('EMPTY', '')],
    [doc('EMPTY2', '', { fileDescriptor: 3 })],
    [],
    [doc('INDENT', '\tfoo\n\tbar\n')],
    [doc('UNINDENT', '\tbaz\n\tquux\n', { chomp: true })],
    [doc('UNINDENT2', '\tbaz\n\tquux\n', { chomp: true })],
    [doc('EXPAND', '\texpand $NAME\n', { chomp: true })],
    [doc('NOEXPAND', "\tdon't expand $NAME\n", { chomp: true, expand: false })],
    [doc('COPY', 'echo hello world\necho foo bar\n')],
    [doc('COMMENT', '# internal comment\necho hello world\necho foo bar # trailing comment\n')],
    [doc('MOUNT', 'echo hello\n')],
    [doc('FILE1', 'content 1\n'), doc('FILE2', 'content 2\n')],
    [doc('EOF', '"foo"\n\'bar\'\n')],
    [doc('X', 'Y\n'), doc('Y', 'X\n')],
    [doc('COMPLEX', "print('hello world')\n")],
    [doc('file.txt', 'hello world\n')],
    [doc('eof', 'echo foo\n', { expand: false })],
    [doc("eo'f", 'echo foo\n')],
    [doc("eo'f", 'echo foo\n', { expand: false })],
    [doc('one two', 'echo bar\n', { expand: false })],
    [doc('$EOF', '')],
    [doc('EOF', '')],
    [doc('EOF', '')],
  ];
  const children = parseDockerfile(src).children;
  assert.equal(children.length, want.length + 1);
  want.forEach((w, i) => assert.deepEqual(children[i + 1]!.heredocs, w, `instruction ${i + 2}: ${children[i + 1]!.original}`));
});

test('exec-form lines have no heredocs', () => {
  const c = parseDockerfile('FROM a\nRUN ["whoami"]\nRUN ["<<EOF"]\nRUN ["<<\'EOF\'"]\n').children;
  for (const n of c.slice(1)) assert.deepEqual(n.heredocs, []);
});

test('chomp', () => {
  assert.equal(chompHeredocContent('\thello\n\tworld\n'), 'hello\nworld\n');
});

test('parseHeredoc: valid, invalid and not heredocs', () => {
  for (const s of ['<<EOF', "<<'EOF'", '<<"EOF"', '<<-EOF', "<<-'EOF'", '<<-"EOF"', '<<EO"F"', '<< EOF', '<<- EOF']) {
    assert.equal(parseHeredoc(s)?.name, 'EOF', s);
  }
  for (const s of ["<<'EOF", '<<"EOF', "<<EOF'", '<<EOF"']) assert.throws(() => parseHeredoc(s), s);
  for (const s of ['', 'EOF', '<<', '<<-', '<EOF', '<<<EOF', '<<EOF sh']) assert.equal(parseHeredoc(s), null, s);
});

test('heredocsFromLine', () => {
  const cases: [string, string[]][] = [
    ['RUN <<EOF', ['EOF']], ['RUN <<-EOF', ['EOF']], ['RUN <<- EOF', ['EOF']], ['RUN << -EOF', ['-EOF']],
    ["RUN <<'EOF'", ['EOF']], ['RUN 4<<EOF', ['EOF']], ['RUN <<EOF <<EOF2', ['EOF', 'EOF2']],
    ["RUN '<<EOF'", []], ['RUN "<<EOF"', []],
  ];
  for (const [line, names] of cases) assert.deepEqual(heredocsFromLine(line).map((h) => h.name), names, line);
});

test('ONBUILD triggers can carry heredocs', async () => {
  const { parseInstruction } = await import('../../src/builder/dockerfile/instructions.js');
  const r = parseDockerfile('FROM a\nONBUILD RUN <<EOT\necho hi\nEOT\nRUN ok\n');
  assert.deepEqual(r.children[1]!.heredocs, [doc('EOT', 'echo hi\n')]);
  assert.deepEqual([r.children[1]!.startLine, r.children[1]!.endLine, r.children[2]!.startLine], [2, 4, 5]);
  const ob = parseInstruction(r.children[1]!);
  assert.equal(ob.kind === 'onbuild' && ob.expression, 'RUN <<EOT\necho hi\nEOT');
});
