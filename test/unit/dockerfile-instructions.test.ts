import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from '../../src/builder/dockerfile/parser.js';
import {
  parseInstruction, parseStages, resolveMounts, type CommandOf, type Instruction, type Stage,
} from '../../src/builder/dockerfile/instructions.js';
import { DockerfileParseError, InstructionError } from '../../src/builder/dockerfile/errors.js';
import { parseMount } from '../../src/builder/dockerfile/run-mount.js';
import { parseGoDuration } from '../../src/builder/dockerfile/duration.js';

function one(src: string): Instruction {
  return parseInstruction(parseDockerfile(src).children[0]!);
}

function oneErr(src: string): string {
  try {
    one(src);
  } catch (e) {
    assert.ok(e instanceof InstructionError, String(e));
    return e.message;
  }
  assert.fail(`expected an error for ${src}`);
}

function stages(src: string) {
  return parseStages(parseDockerfile(src).children);
}

test('argument count errors, as BuildKit words them', () => {
  for (const c of ['MAINTAINER', 'WORKDIR', 'USER', 'STOPSIGNAL']) assert.equal(oneErr(c), `${c} requires exactly one argument`);
  for (const c of ['ENV', 'LABEL', 'ONBUILD', 'HEALTHCHECK', 'EXPOSE', 'VOLUME', 'ARG']) assert.equal(oneErr(c), `${c} requires at least one argument`);
  for (const c of ['ADD', 'COPY']) {
    assert.equal(oneErr(`${c} arg1`), `${c} requires at least two arguments, but only one was provided. Destination could not be determined`);
  }
  assert.match(oneErr('COPY\t\n\t\tquux \\\n      bar'), /^COPY requires at least two arguments/);
});

test('blank names', () => {
  assert.equal(oneErr('ENV =x'), 'ENV names can not be blank');
  assert.equal(oneErr('LABEL =x'), 'LABEL names can not be blank');
  assert.equal(oneErr('ARG =x'), 'ARG names can not be blank');
});

test('unknown instruction, with a suggestion when one is close', () => {
  // BuildKit's own test only checks the prefix: FOO is within distance 2 of FROM
  assert.equal(oneErr('FOO bar'), 'unknown instruction: FOO (did you mean FROM?)');
  assert.equal(oneErr('foo bar'), 'unknown instruction: foo (did you mean from?)');
  assert.equal(oneErr('BOGUSCMD bar'), 'unknown instruction: BOGUSCMD');
  assert.equal(oneErr('FRM alpine'), 'unknown instruction: FRM (did you mean FROM?)');
  assert.equal(oneErr('cpy a b'), 'unknown instruction: cpy (did you mean copy?)');
  assert.throws(() => stages('FROM a\nBOGUS bar\n'), (e: unknown) =>
    e instanceof DockerfileParseError && e.message === 'dockerfile parse error on line 2: unknown instruction: BOGUS' && e.startLine === 2);
});

test('flag errors', () => {
  assert.equal(oneErr('MAINTAINER --boo joe@example.com'), 'unknown flag: --boo');
  assert.equal(oneErr('COPY --form=a x y'), 'unknown flag: --form (did you mean from?)');
  assert.equal(oneErr('COPY --from=a --from=b x y'), 'duplicate flag specified: --from');
  assert.equal(oneErr('COPY --from x y'), 'missing a value on flag: --from');
  assert.equal(oneErr('COPY --link= x y'), 'missing a value on flag: --link');
  assert.equal(oneErr('COPY --link=maybe x y'), 'expecting boolean value for flag --link, not: maybe');
  assert.equal(oneErr('RUN --network=bridge true'), 'invalid network mode "bridge"');
  assert.equal(oneErr('RUN --security=x true'), 'security "x" is not valid');
});

test('ONBUILD rules', () => {
  assert.equal(oneErr('ONBUILD FROM scratch'), "FROM isn't allowed as an ONBUILD trigger");
  assert.equal(oneErr('ONBUILD MAINTAINER me'), "MAINTAINER isn't allowed as an ONBUILD trigger");
  assert.equal(oneErr('ONBUILD ONBUILD RUN touch foobar'), 'Chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
  const ob = one('onbuild RUN echo "hi"') as CommandOf<'onbuild'>;
  assert.equal(ob.expression, 'RUN echo "hi"');
  assert.equal(ob.trigger?.value, 'RUN');
});

test('FROM: AS names, --platform, argument count', () => {
  const st = one('FROM --platform=$BUILDPLATFORM golang:1.22 AS Build') as Stage;
  assert.equal(st.kind, 'from');
  assert.deepEqual([st.baseName, st.name, st.platform], ['golang:1.22', 'build', '$BUILDPLATFORM']);
  assert.equal(st.sourceCode, 'FROM --platform=$BUILDPLATFORM golang:1.22 AS Build');
  assert.equal(oneErr('FROM a b'), 'FROM requires either one or three arguments');
  assert.equal(oneErr('FROM a AS b c'), 'FROM requires either one or three arguments');
  assert.equal(oneErr('FROM a AS 1x'), 'invalid name for build stage: "1x", name can\'t start with a number or contain symbols');
});

test('stages and meta args', () => {
  const r = stages([
    '# v sets the version',
    'ARG v=1',
    'ARG base',
    '# build compiles',
    'FROM alpine:$v AS build',
    'RUN make',
    'FROM scratch',
    'COPY --from=build /out /',
    '',
  ].join('\n'));
  assert.deepEqual(r.metaArgs.map((a) => a.args), [[{ key: 'v', value: '1', comment: 'sets the version' }], [{ key: 'base', comment: '' }]]);
  assert.equal(r.stages.length, 2);
  assert.equal(r.stages[0]!.name, 'build');
  assert.equal(r.stages[0]!.comment, 'compiles');
  assert.deepEqual(r.stages[0]!.commands.map((c) => c.kind), ['run']);
  assert.deepEqual(r.stages[1]!.location, { startLine: 7, endLine: 7 });
  assert.throws(() => stages('RUN x\n'), { message: 'dockerfile parse error on line 1: no build stage in current context' });
});

test('ENV and LABEL pairs keep quoting for the builder', () => {
  assert.throws(() => one('ENV a=1 b="x y" c'), DockerfileParseError);
  const e = one('ENV a=1 b="x y"') as CommandOf<'env'>;
  assert.deepEqual(e.env, [{ key: 'a', value: '1', noDelim: false }, { key: 'b', value: '"x y"', noDelim: false }]);
  const legacy = one('ENV PATH /usr/bin:$PATH') as CommandOf<'env'>;
  assert.deepEqual(legacy.env, [{ key: 'PATH', value: '/usr/bin:$PATH', noDelim: true }]);
  const l = one('LABEL "com.example.vendor"="ACME Inc" version=1.0') as CommandOf<'label'>;
  assert.deepEqual(l.labels.map((p) => [p.key, p.value]), [['"com.example.vendor"', '"ACME Inc"'], ['version', '1.0']]);
});

test('CMD / ENTRYPOINT / SHELL exec and shell forms', () => {
  const exec = one('CMD ["echo", "hi"]') as CommandOf<'cmd'>;
  assert.deepEqual([exec.cmdLine, exec.prependShell], [['echo', 'hi'], false]);
  const sh = one('CMD echo hi') as CommandOf<'cmd'>;
  assert.deepEqual([sh.cmdLine, sh.prependShell], [['echo hi'], true]);
  assert.deepEqual((one('CMD') as CommandOf<'cmd'>).cmdLine, []);
  assert.equal((one('ENTRYPOINT') as CommandOf<'entrypoint'>).cmdLine, null);
  assert.deepEqual((one('ENTRYPOINT []') as CommandOf<'entrypoint'>).cmdLine, null);
  assert.deepEqual((one('SHELL ["/bin/bash", "-c"]') as CommandOf<'shell'>).shell, ['/bin/bash', '-c']);
  assert.equal(oneErr('SHELL /bin/bash -c'), 'SHELL requires the arguments to be in JSON form');
  assert.equal(oneErr('SHELL []'), 'SHELL requires at least one argument');
});

test('RUN: heredoc files, mounts, network', () => {
  const r = one('RUN --mount=type=cache,target=/root/.cache,id=go,sharing=locked --network=none <<EOF\ngo build\nEOF\n') as CommandOf<'run'>;
  assert.deepEqual(r.cmdLine, ['<<EOF']);
  assert.deepEqual(r.files, [{ name: 'EOF', data: 'go build\n', chomp: false }]);
  assert.equal(r.network, 'none');
  assert.equal(r.security, 'sandbox');
  assert.deepEqual(r.flagsUsed.sort(), ['mount', 'network']);
  assert.equal(r.mounts!.length, 1);
  assert.deepEqual(r.mounts![0], {
    type: 'cache', from: '', source: '', target: '/root/.cache', readOnly: false, cacheId: 'go', cacheSharing: 'locked', required: false,
  });
  const v = one('RUN --mount=type=bind,target=$DIR true') as CommandOf<'run'>;
  assert.equal(v.mounts, null);
  assert.equal(resolveMounts(v.mountSpecs, (w) => w.replace('$DIR', '/x'))[0]!.target, '/x');
  const dev = one('RUN --device=nvidia.com/gpu=all,required --device=name=x true') as CommandOf<'run'>;
  assert.deepEqual(dev.devices, [{ name: 'nvidia.com/gpu=all', required: true }, { name: 'x', required: false }]);
  assert.equal(oneErr('RUN --device=a,b true'), "invalid field 'b' must be a key=value pair");
  assert.equal(oneErr('RUN --device=a,nmae=b true'), "unexpected key 'nmae' in 'nmae=b' (did you mean name?)");
  assert.equal(oneErr('RUN --mount=type=bind,from=$X,target=/x true'), "'from' doesn't support variable expansion, define alias stage instead");
});

test('--mount parsing', () => {
  const lit = (s: string) => parseMount(s, (w) => w);
  assert.deepEqual(lit('target=/src'), { type: 'bind', from: '', source: '', target: '/src', readOnly: true, cacheId: '', cacheSharing: '', required: false });
  assert.equal(lit('type=bind,target=/src,rw').readOnly, false);
  assert.equal(lit('type=tmpfs,dst=/t,size=64m').sizeLimit, 64 * 1024 * 1024);
  assert.deepEqual(lit('type=secret,id=aws,target=/root/.aws/credentials,required,mode=0440,uid=1,gid=2'), {
    type: 'secret', from: '', source: '', target: '/root/.aws/credentials', readOnly: true, cacheId: 'aws', cacheSharing: '',
    required: true, mode: 0o440, uid: 1, gid: 2,
  });
  assert.equal(lit('type=secret,id=tok,env=TOKEN').env, 'TOKEN');
  assert.equal(lit('"type=cache",target=/c').type, 'cache');
  const errs: [string, string][] = [
    ['type=foo,target=/x', 'unsupported mount type "foo"'],
    ['type=cahce,target=/x', 'unsupported mount type "cahce" (did you mean cache?)'],
    ['type=bind,target=/x,mode=0700', 'mode not allowed for "bind" type mounts'],
    ['type=bind,target=/x,sharing=shared', 'invalid cache sharing set for bind mount'],
    ['type=cache,target=/x,sharing=weird', 'unsupported sharing value "weird"'],
    ['type=bind,required', "unexpected key 'required' for mount type 'bind'"],
    ['type=cache,tagret=/x', "unexpected key 'tagret' in 'tagret=/x' (did you mean target?)"],
    ['type=cache,target', "invalid field 'target' must be a key=value pair"],
    ['type=secret', 'invalid secret mount. one of source, target required'],
    ['type=secret,source=a,id=b', "both source and id can't be set"],
    ['type=secret,from=x,id=y', 'secret mount should not have a from'],
    ['type=cache,target=/x,uid=abc', 'invalid value abc for uid'],
    ['type=cache,target=/x,mode=999', 'invalid value 999 for mode'],
    ['type=cache,target=/x,ro=maybe', 'invalid value for ro: maybe'],
  ];
  for (const [spec, msg] of errs) assert.throws(() => lit(spec), { message: msg }, spec);
});

test('COPY and ADD flags and sources', () => {
  const c = one('COPY --from=build --chown=1:1 --chmod=644 --link a b /dst/') as CommandOf<'copy'>;
  assert.deepEqual([c.from, c.chown, c.chmod, c.link], ['build', '1:1', '644', true]);
  assert.deepEqual(c.sources, { destPath: '/dst/', sourcePaths: ['a', 'b'], sourceContents: [] });
  const j = one('COPY ["a b", "/c d/"]') as CommandOf<'copy'>;
  assert.deepEqual(j.sources.sourcePaths, ['a b']);
  const h = one('COPY <<-EOT /etc/x\n\thello $A\n\tEOT\n') as CommandOf<'copy'>;
  assert.deepEqual(h.sources.sourceContents, [{ path: 'EOT', data: 'hello $A\n', expand: true }]);
  assert.equal(oneErr('COPY a <<EOF\nx\nEOF\n'), 'COPY cannot accept a heredoc as a destination');
  const a = one('ADD --checksum=sha256:abc --keep-git-dir https://x/y.tar /') as CommandOf<'add'>;
  assert.deepEqual([a.checksum, a.keepGitDir], ['sha256:abc', true]);
  assert.equal(oneErr('ADD --from=x a b'), 'unknown flag: --from');
  assert.equal((one('ADD --unpack=false a.tar /') as CommandOf<'add'>).unpack, false);
  assert.equal((one('ADD a.tar /') as CommandOf<'add'>).unpack, undefined);
  const ex = one('COPY --exclude=*.md --exclude=tmp --parents a/b ./') as CommandOf<'copy'>;
  assert.deepEqual([ex.exclude, ex.parents], [['*.md', 'tmp'], true]);
});

test('HEALTHCHECK', () => {
  const n = one('HEALTHCHECK NONE') as CommandOf<'healthcheck'>;
  assert.deepEqual(n.health.test, ['NONE']);
  assert.equal(oneErr('HEALTHCHECK NONE x'), 'HEALTHCHECK NONE takes no arguments');
  const s = one('HEALTHCHECK --interval=5m --timeout=3s --start-period=1.5s --retries=3 CMD curl -f http://localhost/ || exit 1') as CommandOf<'healthcheck'>;
  assert.deepEqual(s.health, {
    test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'], interval: 300e9, timeout: 3e9, startPeriod: 1.5e9, startInterval: 0, retries: 3,
  });
  assert.deepEqual((one('HEALTHCHECK CMD ["true"]') as CommandOf<'healthcheck'>).health.test, ['CMD', 'true']);
  assert.equal(oneErr('HEALTHCHECK CMD'), 'Missing command after HEALTHCHECK CMD');
  assert.equal(oneErr('HEALTHCHECK CONNECT TCP 7000'), 'Unknown type "CONNECT" in HEALTHCHECK (try CMD)');
  assert.equal(oneErr('HEALTHCHECK --interval=50ns CMD x'), 'Interval "interval" cannot be less than 1ms');
  assert.equal(oneErr('HEALTHCHECK --timeout=5 CMD x'), 'time: missing unit in duration "5"');
  assert.equal(oneErr('HEALTHCHECK --retries=-1 CMD x'), '--retries cannot be negative (-1)');
  assert.equal((one('HEALTHCHECK --interval=0ms CMD x') as CommandOf<'healthcheck'>).health.interval, 0);
});

test('Go durations', () => {
  assert.equal(parseGoDuration('1h2m3s'), 3723e9);
  assert.equal(parseGoDuration('300ms'), 300e6);
  assert.equal(parseGoDuration('-1.5us'), -1500);
  assert.equal(parseGoDuration('0'), 0);
  assert.throws(() => parseGoDuration('1d'), { message: 'time: unknown unit "d" in duration "1d"' });
  assert.throws(() => parseGoDuration(''), { message: 'time: invalid duration ""' });
  assert.throws(() => parseGoDuration('.s'), { message: 'time: invalid duration ".s"' });
});

test('simple instructions', () => {
  assert.deepEqual((one('EXPOSE 8080/udp 80 443') as CommandOf<'expose'>).ports, ['443', '80', '8080/udp']);
  assert.equal((one('WORKDIR /app') as CommandOf<'workdir'>).path, '/app');
  assert.equal((one('USER app:app') as CommandOf<'user'>).user, 'app:app');
  assert.deepEqual((one('VOLUME ["/a", "/b"]') as CommandOf<'volume'>).volumes, ['/a', '/b']);
  assert.deepEqual((one('VOLUME /a /b') as CommandOf<'volume'>).volumes, ['/a', '/b']);
  assert.equal(oneErr('VOLUME [""]'), 'VOLUME specified can not be an empty string');
  assert.equal((one('STOPSIGNAL SIGKILL') as CommandOf<'stopsignal'>).signal, 'SIGKILL');
  assert.equal((one('MAINTAINER Jane <j@x>') as CommandOf<'maintainer'>).maintainer, 'Jane <j@x>');
  const arg = one('ARG a b=2 c="x y"') as CommandOf<'arg'>;
  assert.deepEqual(arg.args.map((p) => [p.key, p.value]), [['a', undefined], ['b', '2'], ['c', '"x y"']]);
});
