import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTemplate, renderTemplate, TemplateError } from '../../src/common/gotemplate/index.js';

const r = renderTemplate;

test('fields, tabs and docker doc templates', () => {
  assert.equal(r('{{.ID}}\t{{.Names}}', { ID: 'abc', Names: 'web' }), 'abc\tweb');
  assert.equal(r('{{range .Mounts}}{{.Source}} {{end}}', { Mounts: [{ Source: '/a' }, { Source: '/b' }] }), '/a /b ');
  assert.equal(r('{{index .Labels "k"}}|{{index .Labels "x"}}|', { Labels: { k: 'v' } }), 'v||');
  assert.equal(r('{{join .Args " "}}', { Args: ['-c', 'echo hi'] }), '-c echo hi');
  assert.equal(r('[{{printf "%-10s" .Name}}]', { Name: 'web' }), '[web       ]');
  assert.equal(r('{{if eq .State "running"}}up{{else}}down{{end}}', { State: 'exited' }), 'down');
  assert.equal(r('{{.A.B.C}}', { A: { B: { C: 3 } } }), '3');
});

test('json function: no HTML escaping, Go key order for objects, no newline', () => {
  assert.equal(r('{{json .}}', { a: '<b>&', n: 1.5, l: [1, 'x'], z: null }), '{"a":"<b>&","n":1.5,"l":[1,"x"],"z":null}');
  assert.equal(r('{{json .Missing}}', {}), 'null');
  assert.equal(r('{{json "a\\u2028b"}}', {}), '"a\\u2028b"');
});

test('missing map key prints <no value>, nil prints <nil>', () => {
  assert.equal(r('{{.Nope}}', {}), '<no value>');
  assert.equal(r('{{.a.b}}', {}), '<no value>');
  assert.equal(r('{{.X}}', { X: null }), '<nil>');
  assert.equal(r('{{.M}}', { M: { b: [1, 'x'], a: null, c: true } }), 'map[a:<nil> b:[1 x] c:true]');
});

test('whitespace trimming and comments', () => {
  assert.equal(r('a  {{- 1 -}}  b', {}), 'a1b');
  assert.equal(r('x {{/* note */}} y', {}), 'x  y');
  assert.equal(r('x {{- /* note */ -}} y', {}), 'xy');
  assert.equal(r('{{-3}}', {}), '-3');
});

test('variables, assignment and scoping', () => {
  assert.equal(r('{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}', {}), '2');
  assert.equal(r('{{$x := "a"}}{{with .Y}}{{$x := "b"}}{{$x}}{{end}}{{$x}}', { Y: 1 }), 'ba');
  assert.equal(r('{{range .L}}{{$.P}}{{.}} {{end}}', { P: '>', L: [1, 2] }), '>1 >2 ');
});

test('range over slices, sorted maps, else, break and continue', () => {
  assert.equal(r('{{range $i, $v := .}}{{$i}}={{$v}};{{end}}', ['a', 'b']), '0=a;1=b;');
  assert.equal(r('{{range $k, $v := .}}{{$k}}={{$v}};{{end}}', { b: 2, a: 1 }), 'a=1;b=2;');
  assert.equal(r('{{range .}}x{{else}}empty{{end}}', []), 'empty');
  assert.equal(r('{{range .}}{{if eq . 2}}{{continue}}{{end}}{{if eq . 4}}{{break}}{{end}}{{.}}{{end}}', [1, 2, 3, 4, 5]), '13');
  assert.equal(r('{{range 3}}{{.}}{{end}}', null), '012');
});

test('if / else if / with / else', () => {
  const t = '{{if eq .N 1}}one{{else if eq .N 2}}two{{else}}many{{end}}';
  assert.equal(r(t, { N: 1 }), 'one');
  assert.equal(r(t, { N: 2 }), 'two');
  assert.equal(r(t, { N: 7 }), 'many');
  assert.equal(r('{{with .X}}[{{.}}]{{else}}none{{end}}', { X: '' }), 'none');
  assert.equal(r('{{with $v := .X}}{{$v}}{{end}}', { X: 'q' }), 'q');
  assert.equal(r('{{if and .A (not .B)}}y{{end}}', { A: 1, B: 0 }), 'y');
});

test('define, template and block', () => {
  assert.equal(r('{{define "T"}}<{{.}}>{{end}}{{template "T" .X}}{{template "T"}}', { X: 5 }), '<5><<no value>>');
  assert.equal(r('{{block "B" .}}b{{.}}{{end}}', 7), 'b7');
});

test('literals', () => {
  assert.equal(r('{{"a\\tb\\u00e9"}} {{`raw\\n`}} {{0x1F}} {{\'a\'}} {{1_000}} {{-2.5}} {{true}}', {}), 'a\tbé raw\\n 31 97 1000 -2.5 true');
});

test('builtins: len, index, slice, print family, comparisons', () => {
  assert.equal(r('{{len .S}} {{len .L}} {{len .M}}', { S: 'héllo', L: [1, 2], M: { a: 1 } }), '6 2 1');
  assert.equal(r('{{index .L 1}} {{index .M "a" 0}}', { L: ['x', 'y'], M: { a: ['z'] } }), 'y z');
  assert.equal(r('{{slice .S 1 3}} {{slice .L 1}}', { S: 'hello', L: [1, 2, 3] }), 'el [2 3]');
  assert.equal(r('{{print 1 2 "a" "b" 3}}', {}), '1 2ab3');
  assert.equal(r('{{println 1 "a"}}', {}), '1 a\n');
  assert.equal(r('{{eq 1 2 3 1}} {{ne "a" "b"}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}', {}), 'true true true true true false');
  assert.equal(r('{{and 1 0 2}} {{or 0 "" "x"}} {{not ""}}', {}), '0 x true');
  assert.equal(r('{{.A | printf "%s-%s" "x"}}', { A: 'y' }), 'x-y');
  assert.equal(r('{{call .F 2}}', { F: (n: number) => n * 2 }), '4');
});

test('printf verbs', () => {
  const p = (f: string, ...a: unknown[]): string => parseTemplate('{{printf .F .A1 .A2}}').execute({ F: f, A1: a[0], A2: a[1] });
  assert.equal(r('{{printf "%d|%5d|%-5d|%05d|%x|%X|%o|%b|%c|%q" 42 42 42 42 255 255 8 5 65 "hi"}}', {}), '42|   42|42   |00042|ff|FF|10|101|A|"hi"');
  assert.equal(r('{{printf "%f|%.2f|%8.3f|%e|%g|%v|%t|%%" 3.14159 3.14159 3.14159 1234.5678 0.00001 1.5 true}}', {}), '3.141590|3.14|   3.142|1.234568e+03|1e-05|1.5|true|%');
  assert.equal(r('{{printf "%5s|%.2s|%v|%+v" "ab" "abc" .M .M}}', { M: { a: 1 } }), '   ab|ab|map[a:1]|map[a:1]');
  assert.equal(r('{{printf "%v %s" .L .L}}', { L: ['a', 'b'] }), '[a b] [a b]');
  assert.equal(p('%d', 'x'), '%!d(string=x)%!(EXTRA <nil>)');
  assert.equal(r('{{printf "%d %d" 1}}', {}), '1 %!d(MISSING)');
  assert.equal(r('{{printf "%d" 1 2}}', {}), '1%!(EXTRA int=2)');
});

test('html, js, urlquery escaping', () => {
  assert.equal(r(`{{html "<a href='x'>&\\""}}`, {}), '&lt;a href=&#39;x&#39;&gt;&amp;&#34;');
  assert.equal(r(`{{js "a'b\\"<>=&\\n"}}`, {}), `a\\'b\\"\\u003C\\u003E\\u003D\\u0026\\u000A`);
  assert.equal(r('{{urlquery "a b&c/é"}}', {}), 'a+b%26c%2F%C3%A9');
});

test('docker functions: split, join, title, lower, upper, pad, truncate', () => {
  assert.equal(r('{{split "a:b:c" ":"}} {{index (split .I ":") 1}}', { I: 'nginx:1.25' }), '[a b c] 1.25');
  assert.equal(r('{{title "hello wide-world"}} {{lower "AbC"}} {{upper "abc"}}', {}), 'Hello Wide-World abc ABC');
  assert.equal(r('[{{pad "a" 2 1}}][{{pad "" 2 1}}]', {}), '[  a ][]');
  assert.equal(r('{{truncate "abcdef" 3}} {{truncate "ab" 3}}', {}), 'abc ab');
});

test('methods on objects are called with arguments', () => {
  class Ctx {
    Label(k: string): string {
      return `L:${k}`;
    }
    ID(): string {
      return 'abc';
    }
  }
  assert.equal(r('{{.Label "x"}} {{.ID}}', new Ctx()), 'L:x abc');
});

function err(text: string, data: unknown = {}): string {
  try {
    parseTemplate(text).execute(data);
  } catch (e) {
    assert.ok(e instanceof TemplateError);
    return e.message;
  }
  assert.fail('expected an error');
}

test('parse errors read like Go', () => {
  assert.equal(err('{{foo}}'), 'template: :1: function "foo" not defined');
  assert.equal(err('{{.X'), 'template: :1: unclosed action');
  assert.equal(err('{{if .X}}'), 'template: :1: unexpected EOF');
  assert.equal(err('{{end}}'), 'template: :1: unexpected {{end}}');
  assert.equal(err('{{$x}}'), 'template: :1: undefined variable "$x"');
  assert.equal(err('{{if}}{{end}}'), 'template: :1: missing value for if');
  assert.equal(err('{{.X | "a"}}'), 'template: :1: non executable command in pipeline stage 2');
  assert.equal(err('{{break}}'), 'template: :1: {{break}} outside {{range}}');
  assert.equal(err('a\n{{.X )}}'), 'template: :2: unexpected right paren');
  assert.equal(r('{{.X }}}', { X: 1 }), '1}');
  assert.equal(err('{{@}}'), "template: :1: unrecognized character in action: U+0040 '@'");
});

test('execution errors carry position and node', () => {
  class Row {
    ID(): string {
      return 'x';
    }
  }
  assert.equal(err('{{.Nope}}', new Row()), 'template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *Row');
  assert.equal(err('{{index .A 5}}', { A: [1] }), 'template: :1:2: executing "" at <index .A 5>: error calling index: index out of range: 5');
  assert.equal(err('x\n {{.A.B}}', { A: [1] }), 'template: :2:5: executing "" at <.A.B>: can\'t evaluate field B in type []interface {}');
  assert.equal(err('{{join .S ","}}', { S: 'ab' }), 'template: :1:7: executing "" at <.S>: wrong type for value; expected []string; got string');
  assert.equal(err('{{eq .A 1}}', { A: 'x' }), 'template: :1:2: executing "" at <eq .A 1>: error calling eq: incompatible types for comparison');
  assert.equal(err('{{.X.Y}}', { X: null }), 'template: :1:4: executing "" at <.X.Y>: nil pointer evaluating interface {}.Y');
  assert.equal(err('{{template "z"}}'), 'template: :1:11: executing "" at <{{template "z"}}>: template "z" not defined');
});

test('partial output is kept on execution errors', () => {
  try {
    parseTemplate('ab{{.X.Y}}').execute({ X: null });
    assert.fail('expected error');
  } catch (e) {
    assert.ok(e instanceof TemplateError);
    assert.equal(e.partialOutput, 'ab');
  }
});
