import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PatternMatcher, DockerignoreError, cleanPath, isExcluded, readDockerignore, type MatchInfo,
} from '../../src/builder/dockerignore.js';

test('readDockerignore: comments, trimming, leading / and cleaning', () => {
  const content = 'test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! ';
  assert.deepEqual(readDockerignore(content), ['test1', 'test2', 'a/file/here', 'lastfile', '!inverted/abs/path', '!', '!']);
  assert.deepEqual(readDockerignore('\ufeffa\r\n  # not a comment\n./b/../c/\nd/**  \n../e\n'), ['a', '# not a comment', 'c', 'd/**', '../e']);
});

test('cleanPath is Go path.Clean', () => {
  const cases: [string, string][] = [
    ['', '.'], ['.', '.'], ['a/', 'a'], ['./a/./b/', 'a/b'], ['a/../..', '..'], ['/../a', '/a'], ['a//b', 'a/b'], ['/', '/'],
  ];
  for (const [i, o] of cases) assert.equal(cleanPath(i), o, i);
});

// pattern, path, expected: 'exact' (matches itself), 'inexact' (only through a parent dir), 'fail'
const single: [string, string, 'exact' | 'inexact' | 'fail'][] = [
  ['**', 'file', 'exact'], ['**', 'file/', 'exact'], ['**/', 'file', 'exact'], ['**/', 'file/', 'exact'],
  ['**', '/', 'exact'], ['**/', '/', 'exact'], ['**', 'dir/file', 'exact'], ['**/', 'dir/file', 'exact'],
  ['**', 'dir/file/', 'exact'], ['**/', 'dir/file/', 'exact'], ['**/**', 'dir/file', 'exact'], ['**/**', 'dir/file/', 'exact'],
  ['dir/**', 'dir/file', 'exact'], ['dir/**', 'dir/file/', 'exact'], ['dir/**', 'dir/dir2/file', 'exact'], ['dir/**', 'dir/dir2/file/', 'exact'],
  ['**/dir', 'dir', 'exact'], ['**/dir', 'dir/file', 'inexact'], ['**/dir2/*', 'dir/dir2/file', 'exact'], ['**/dir2/*', 'dir/dir2/file/', 'inexact'],
  ['**/dir2/**', 'dir/dir2/dir3/file', 'exact'], ['**/dir2/**', 'dir/dir2/dir3/file/', 'exact'],
  ['**file', 'file', 'exact'], ['**file', 'dir/file', 'exact'], ['**/file', 'dir/file', 'exact'], ['**file', 'dir/dir/file', 'exact'],
  ['**/file', 'dir/dir/file', 'exact'], ['**/file*', 'dir/dir/file', 'exact'], ['**/file*', 'dir/dir/file.txt', 'exact'],
  ['**/file*txt', 'dir/dir/file.txt', 'exact'], ['**/file*.txt', 'dir/dir/file.txt', 'exact'], ['**/file*.txt*', 'dir/dir/file.txt', 'exact'],
  ['**/**/*.txt', 'dir/dir/file.txt', 'exact'], ['**/**/*.txt2', 'dir/dir/file.txt', 'fail'], ['**/*.txt', 'file.txt', 'exact'],
  ['**/**/*.txt', 'file.txt', 'exact'], ['a**/*.txt', 'a/file.txt', 'exact'], ['a**/*.txt', 'a/dir/file.txt', 'exact'],
  ['a**/*.txt', 'a/dir/dir/file.txt', 'exact'], ['a/*.txt', 'a/dir/file.txt', 'fail'], ['a/*.txt', 'a/file.txt', 'exact'],
  ['a/*.txt**', 'a/file.txt', 'exact'], ['a[b-d]e', 'ae', 'fail'], ['a[b-d]e', 'ace', 'exact'], ['a[b-d]e', 'aae', 'fail'],
  ['a[^b-d]e', 'aze', 'exact'], ['.*', '.foo', 'exact'], ['.*', 'foo', 'fail'], ['abc.def', 'abcdef', 'fail'],
  ['abc.def', 'abc.def', 'exact'], ['abc.def', 'abcZdef', 'fail'], ['abc?def', 'abcZdef', 'exact'], ['abc?def', 'abcdef', 'fail'],
  ['**/foo/bar', 'foo/bar', 'exact'], ['**/foo/bar', 'dir/foo/bar', 'exact'], ['**/foo/bar', 'dir/dir2/foo/bar', 'exact'],
  ['abc/**', 'abc', 'fail'], ['abc/**', 'abc/def', 'exact'], ['abc/**', 'abc/def/ghi', 'exact'], ['**/.foo', '.foo', 'exact'],
  ['**/.foo', 'bar.foo', 'fail'], ['a(b)c/def', 'a(b)c/def', 'exact'], ['a(b)c/def', 'a(b)c/xyz', 'fail'],
  ['a.|)$(}+{bc', 'a.|)$(}+{bc', 'exact'],
  ['dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'exact'],
  ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'exact'],
  ['a\\\\', 'a\\', 'exact'], ['a\\*b', 'a*b', 'exact'],
];

const multi: [string[], string, boolean][] = [
  [['**', '!util/docker/web'], 'util/docker/web/foo', false],
  [['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo', true],
  [['**', '!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', false],
  [['**', '!dist/*.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', false],
];

function walkMatch(pm: PatternMatcher, text: string): boolean {
  const slash = text.lastIndexOf('/');
  const parent = slash < 0 ? '.' : cleanPath(text.slice(0, slash) || '/');
  let info: MatchInfo | undefined;
  if (parent !== '.') {
    const dirs = parent.split('/');
    for (let i = 0; i < dirs.length; i++) info = pm.matchesUsingParentResults(dirs.slice(0, i + 1).join('/'), info).info;
  }
  return pm.matchesUsingParentResults(text, info).matched;
}

test('pattern matching: exact, through parents, and while walking', () => {
  for (const [pattern, text, want] of single) {
    const pm = new PatternMatcher([pattern]);
    assert.equal(pm.matchesExact(text), want === 'exact', `exact ${pattern} ${text}`);
    assert.equal(pm.matches(text), want !== 'fail', `parents ${pattern} ${text}`);
    assert.equal(walkMatch(pm, text), want !== 'fail', `walk ${pattern} ${text}`);
    assert.equal(pm.matchesUsingParentResults(text).matched, want !== 'fail', `no context ${pattern} ${text}`);
  }
  for (const [patterns, text, want] of multi) {
    const pm = new PatternMatcher(patterns);
    assert.equal(pm.matches(text), want, `${patterns.join(' ')} ${text}`);
    assert.equal(walkMatch(pm, text), want, `walk ${patterns.join(' ')} ${text}`);
  }
});

test('exceptions: the last matching pattern wins', () => {
  assert.equal(isExcluded('fileutils.go', ['*']), true);
  assert.equal(isExcluded('fileutils.go', ['*.go']), true);
  assert.equal(isExcluded('fileutils.go', ['!fileutils.go', '*.go']), true);
  assert.equal(isExcluded('fileutils.go', ['*.go', '!fileutils.go']), false);
  for (const dir of ['docs', 'docs/', 'docs/*']) assert.equal(isExcluded('docs/README.md', [dir, '!docs/README.md']), false);
  assert.equal(isExcluded('.', ['*.go']), false);
  assert.equal(isExcluded('/any/path/there', []), false);
  assert.equal(new PatternMatcher(['docs', '  !docs/README.md']).exclusions, true);
  assert.equal(new PatternMatcher(['docs', 'config', '']).patterns.length, 2);
});

// filepath.Match cases (the patternmatcher tests run them through Matches)
const globs: [string, string, boolean | 'bad'][] = [
  ['abc', 'abc', true], ['*', 'abc', true], ['*c', 'abc', true], ['a*', 'a', true], ['a*', 'abc', true], ['a*', 'ab/c', true],
  ['a*/b', 'abc/b', true], ['a*/b', 'a/c/b', false], ['a*b*c*d*e*/f', 'axbxcxdxe/f', true], ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false], ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false], ['a*b?c*x', 'abxbbxdbxebxczzx', true],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false], ['ab[c]', 'abc', true], ['ab[b-d]', 'abc', true], ['ab[e-g]', 'abc', false],
  ['ab[^c]', 'abc', false], ['ab[^b-d]', 'abc', false], ['ab[^e-g]', 'abc', true], ['a\\*b', 'a*b', true], ['a\\*b', 'ab', false],
  ['a?b', 'a☺b', true], ['a[^a]b', 'a☺b', true], ['a???b', 'a☺b', false], ['a[^a][^a][^a]b', 'a☺b', false], ['[a-ζ]*', 'α', true],
  ['*[a-ζ]', 'A', false], ['a?b', 'a/b', false], ['a*b', 'a/b', false], ['[\\]a]', ']', true], ['[\\-]', '-', true],
  ['[x\\-]', 'x', true], ['[x\\-]', '-', true], ['[x\\-]', 'z', false], ['[\\-x]', 'x', true], ['[\\-x]', '-', true], ['[\\-x]', 'a', false],
  ['[]a]', ']', 'bad'], ['[-]', '-', 'bad'], ['[x-]', 'x', 'bad'], ['[-x]', 'x', 'bad'], ['\\', 'a', 'bad'], ['[a-b-c]', 'a', 'bad'],
  ['[', 'a', 'bad'], ['[^', 'a', 'bad'], ['[^bc', 'a', 'bad'], ['a[', 'a', 'bad'], ['a[', 'ab', 'bad'], ['*x', 'xxx', true],
];

test('glob syntax and semantics', () => {
  for (const [pattern, s, want] of globs) {
    if (want === 'bad') {
      assert.throws(() => isExcluded(s, [pattern]), (e: unknown) => e instanceof DockerignoreError && e.message === 'syntax error in pattern', pattern);
    } else {
      assert.equal(isExcluded(s, [pattern]), want, `${pattern} ${s}`);
    }
  }
  assert.throws(() => new PatternMatcher(['!']), { message: 'illegal exclusion pattern: "!"' });
});

test('a typical .dockerignore', () => {
  const pm = new PatternMatcher(readDockerignore('# deps\nnode_modules\n**/*.log\n.git\n*.md\n!README.md\n/build/\n'));
  const excluded = (p: string) => pm.matches(p);
  assert.equal(excluded('node_modules/x/index.js'), true);
  assert.equal(excluded('src/node_modules/x'), false);
  assert.equal(excluded('a/b/debug.log'), true);
  assert.equal(excluded('debug.log'), true);
  assert.equal(excluded('.git/HEAD'), true);
  assert.equal(excluded('CHANGELOG.md'), true);
  assert.equal(excluded('README.md'), false);
  assert.equal(excluded('docs/guide.md'), false);
  assert.equal(excluded('build/out.js'), true);
  assert.equal(excluded('src/index.ts'), false);
});
