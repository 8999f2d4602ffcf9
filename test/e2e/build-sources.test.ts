// Where a build's files come from besides the uploaded directory: git repositories (git:// from
// `git daemon`, smart HTTP from `git http-backend`, both served here on 127.0.0.1, with
// `#ref:subdir`, submodules, `-f` inside), a tarball or a plain Dockerfile by URL, named build
// contexts (`--build-context`, compose's `additional_contexts`) and an SSH agent forwarded into
// RUN (`--ssh`, checked with a real ssh-agent and ssh-add inside the step).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import net from 'node:net';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { TestDaemon, until } from '../helpers/daemon.js';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('/usr/bin/git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'protocol.file.allow=always', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** `git http-backend` as CGI behind node's http server: smart HTTP, so shallow fetches work. */
function gitHttp(projectRoot: string, req: http.IncomingMessage, res: http.ServerResponse, pathInfo: string, query: string): void {
  const p = spawn('/usr/lib/git-core/git-http-backend', [], {
    env: {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: projectRoot,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: pathInfo,
      QUERY_STRING: query,
      // HEAD probes (is the server smart?) get GET's headers; node drops the body
      REQUEST_METHOD: req.method === 'HEAD' ? 'GET' : req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
      GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      REMOTE_ADDR: '127.0.0.1',
    },
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  req.pipe(p.stdin);
  let head = Buffer.alloc(0);
  let started = false;
  p.stdout.on('data', (c: Buffer) => {
    if (started) return void res.write(c);
    head = Buffer.concat([head, c]);
    const sep = head.indexOf('\r\n\r\n') >= 0 ? '\r\n\r\n' : '\n\n';
    const i = head.indexOf(sep);
    if (i < 0) return;
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of head.subarray(0, i).toString('latin1').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      const k = line.slice(0, colon).trim();
      const v = line.slice(colon + 1).trim();
      if (k.toLowerCase() === 'status') status = Number(v.split(' ')[0]);
      else headers[k] = v;
    }
    res.writeHead(status, headers);
    res.write(head.subarray(i + sep.length));
    started = true;
  });
  p.stdout.on('end', () => res.end());
}

describe('build sources', { timeout: 600_000 }, () => {
  const d = new TestDaemon();
  let root = '';
  let srv = '';
  let gitd: ChildProcess | undefined;
  let gitPort = 0;
  let web: http.Server | undefined;
  let webPort = 0;
  const requests: string[] = [];
  let tcpHost = '';

  before(async () => {
    // also on loopback tcp: a client there cannot hand berthd its agent socket by path
    tcpHost = `tcp://127.0.0.1:${await freePort()}`;
    await d.start(['-H', tcpHost]);
    await d.makeBusybox();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'bsrc-'));
    srv = path.join(root, 'srv');
    fs.mkdirSync(srv);
    gitPort = await freePort();
    gitd = spawn('/usr/bin/git', ['daemon', '--reuseaddr', '--export-all', `--base-path=${srv}`, '--listen=127.0.0.1', `--port=${gitPort}`, srv], { stdio: 'ignore' });
    await until(
      () =>
        new Promise<boolean>((resolve) => {
          const s = net.connect(gitPort, '127.0.0.1', () => (s.destroy(), resolve(true)));
          s.on('error', () => resolve(false));
        }),
      10_000,
    );

    // a submodule repository, and the main one that includes it from the git daemon
    const sub = path.join(root, 'sub');
    fs.mkdirSync(sub);
    git(sub, 'init', '-q');
    fs.writeFileSync(path.join(sub, 'subfile.txt'), 'from the submodule\n');
    git(sub, 'add', '.');
    git(sub, 'commit', '-qm', 'sub');
    git(root, 'clone', '-q', '--bare', sub, path.join(srv, 'sub.git'));

    const main = path.join(root, 'main');
    fs.mkdirSync(main);
    git(main, 'init', '-q');
    fs.writeFileSync(path.join(main, 'Dockerfile'), 'FROM busybox\nCOPY . /ctx\nRUN ls -a /ctx > /listing\n');
    fs.writeFileSync(path.join(main, 'hello.txt'), 'main branch\n');
    fs.mkdirSync(path.join(main, 'app'));
    fs.writeFileSync(path.join(main, 'app/Dockerfile.alt'), 'FROM busybox\nCOPY data.txt /data.txt\n');
    fs.writeFileSync(path.join(main, 'app/data.txt'), 'main app\n');
    git(main, 'submodule', 'add', '-q', `git://127.0.0.1:${gitPort}/sub.git`, 'vendor/sub');
    git(main, 'add', '.');
    git(main, 'commit', '-qm', 'main');
    git(main, 'checkout', '-qb', 'feature');
    fs.writeFileSync(path.join(main, 'app/data.txt'), 'feature app\n');
    git(main, 'commit', '-qam', 'feature');
    git(main, 'checkout', '-q', 'main');
    git(root, 'clone', '-q', '--bare', main, path.join(srv, 'main.git'));

    // a tarball context and Dockerfiles to fetch by URL
    const tctx = path.join(root, 'tarctx');
    fs.mkdirSync(tctx);
    fs.writeFileSync(path.join(tctx, 'Dockerfile'), 'FROM busybox\nCOPY file.txt /file.txt\n');
    fs.writeFileSync(path.join(tctx, 'file.txt'), 'from the tarball\n');
    const tgz = execFileSync('/bin/tar', ['-cz', '-C', tctx, '.']);
    web = http.createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      requests.push(`${req.method} ${u.pathname}`);
      if (u.pathname.startsWith('/git/')) return gitHttp(srv, req, res, u.pathname.slice(4), u.search.slice(1));
      if (u.pathname === '/ctx.tar.gz') return void res.writeHead(200, { 'Content-Type': 'application/gzip' }).end(tgz);
      if (u.pathname === '/Dockerfile.txt') return void res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('FROM busybox\nLABEL from=url\n');
      if (u.pathname === '/Dockerfile') return void res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end('FROM busybox\nLABEL from=sniffed\n');
      res.writeHead(404).end('not found');
    });
    await new Promise<void>((resolve) => web!.listen(0, '127.0.0.1', resolve));
    webPort = (web.address() as net.AddressInfo).port;
  });

  after(async () => {
    gitd?.kill('SIGTERM');
    await new Promise<void>((resolve) => (web ? web.close(() => resolve()) : resolve()));
    await d.cleanup();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  const cat = async (image: string, file: string) => {
    const r = await d.docker(['run', '--rm', image, 'cat', file]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  test('berth build of a git:// repository: default branch, submodules, no .git', async () => {
    const r = await d.berth(['build', '-q', '-t', 'git1', `git://127.0.0.1:${gitPort}/main.git`], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await cat('git1', '/ctx/hello.txt'), 'main branch\n');
    assert.equal(await cat('git1', '/ctx/vendor/sub/subfile.txt'), 'from the submodule\n');
    assert.doesNotMatch(await cat('git1', '/listing'), /^\.git$/m);
  });

  test('smart HTTP git URL with #ref:subdir and -f inside it; raw POST /build?remote= without a body', async () => {
    const url = `http://127.0.0.1:${webPort}/git/main.git#feature:app`;
    const r = await d.berth(['build', '-q', '-t', 'git2', '-f', 'Dockerfile.alt', url], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await cat('git2', '/data.txt'), 'feature app\n');
    assert.ok(requests.some((x) => x.startsWith('POST /git/main.git/git-upload-pack')), 'fetched through smart HTTP');

    const raw = await d.api('POST', `/v1.47/build?t=git3&dockerfile=Dockerfile.alt&remote=${encodeURIComponent(`git://127.0.0.1:${gitPort}/main.git#main:app`)}`);
    assert.equal(raw.status, 200, raw.body);
    assert.match(raw.body, /Successfully tagged git3:latest/);
    assert.equal(await cat('git3', '/data.txt'), 'main app\n');
  });

  test('bad git contexts: an unknown ref, a subdir that is not there', async () => {
    let r = await d.berth(['build', '-t', 'gitbad', `git://127.0.0.1:${gitPort}/main.git#nope`], { timeoutMs: 60_000 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error fetching: .*nope/s);
    r = await d.berth(['build', '-t', 'gitbad', `git://127.0.0.1:${gitPort}/main.git#main:missing`], { timeoutMs: 60_000 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error setting git context/);
    assert.equal((await d.docker(['image', 'inspect', 'gitbad'])).code, 1);
  });

  test('ADD of a git repository: ref, submodules, --keep-git-dir, cached by commit, --checksum', async () => {
    const dir = fs.mkdtempSync(path.join(root, 'addgit-'));
    const feature = `git://127.0.0.1:${gitPort}/main.git#feature`;
    fs.writeFileSync(
      path.join(dir, 'Dockerfile'),
      `FROM busybox\nADD ${feature} /src\nADD --keep-git-dir=true http://127.0.0.1:${webPort}/git/main.git /withgit/\nRUN ls -a /src > /src-listing; ls -a /withgit > /withgit-listing\n`,
    );
    let r = await d.docker(['build', '-t', 'addgit', dir], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await cat('addgit', '/src/app/data.txt'), 'feature app\n');
    assert.equal(await cat('addgit', '/src/vendor/sub/subfile.txt'), 'from the submodule\n');
    assert.doesNotMatch(await cat('addgit', '/src-listing'), /^\.git$/m);
    assert.match(await cat('addgit', '/withgit-listing'), /^\.git$/m);
    assert.equal(await cat('addgit', '/withgit/app/data.txt'), 'main app\n');

    // the same commits: every step from the cache
    r = await d.docker(['build', '-t', 'addgit', dir], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.match(/Using cache/g)?.length, 3, r.stdout);

    // a new commit on the branch: that ADD runs again and brings it
    const work = path.join(root, 'addgit-work');
    git(root, 'clone', '-q', '-b', 'feature', path.join(srv, 'main.git'), work);
    fs.writeFileSync(path.join(work, 'app/data.txt'), 'feature app v2\n');
    git(work, 'commit', '-qam', 'v2');
    git(work, 'push', '-q', 'origin', 'feature');
    const v2 = git(work, 'rev-parse', 'HEAD').trim();
    r = await d.docker(['build', '-t', 'addgit', dir], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await cat('addgit', '/src/app/data.txt'), 'feature app v2\n');

    // --checksum names the commit
    fs.writeFileSync(path.join(dir, 'Dockerfile.sum'), `FROM busybox\nADD --checksum=${v2.slice(0, 12)} ${feature} /src\n`);
    r = await d.berth(['build', '-q', '-t', 'addgit-sum', '-f', path.join(dir, 'Dockerfile.sum'), dir], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    fs.writeFileSync(path.join(dir, 'Dockerfile.bad'), `FROM busybox\nADD --checksum=0123456789ab ${feature} /src\n`);
    r = await d.berth(['build', '-t', 'addgit-bad', '-f', path.join(dir, 'Dockerfile.bad'), dir], { timeoutMs: 120_000 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`expected checksum to match 0123456789ab, got ${v2}`));
    assert.notEqual((await d.docker(['image', 'inspect', 'addgit-bad'])).code, 0, 'nothing tagged');
    assert.deepEqual(fs.readdirSync(path.join(d.dataRoot, 'tmp')).filter((n) => n.startsWith('build-add-git-')), [], 'no clone left behind');
  });

  test('a tarball URL and a plain-text Dockerfile URL as the context (berth and docker CLIs)', async () => {
    let r = await d.berth(['build', '-q', '-t', 'url1', `http://127.0.0.1:${webPort}/ctx.tar.gz`], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await cat('url1', '/file.txt'), 'from the tarball\n');
    r = await d.berth(['build', '-q', '-t', 'url2', `http://127.0.0.1:${webPort}/Dockerfile.txt`], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const label = async (img: string) => JSON.parse((await d.docker(['image', 'inspect', img])).stdout)[0].Config.Labels.from;
    assert.equal(await label('url2'), 'url');
    r = await d.berth(['build', '-q', '-t', 'url3', `http://127.0.0.1:${webPort}/Dockerfile`], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await label('url3'), 'sniffed');
    r = await d.docker(['build', '-q', '-t', 'url4', `http://127.0.0.1:${webPort}/ctx.tar.gz`], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await cat('url4', '/file.txt'), 'from the tarball\n');
    r = await d.berth(['build', '-t', 'url5', `http://127.0.0.1:${webPort}/missing.tar.gz`], { timeoutMs: 60_000 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /status 404/);
  });

  test('--build-context: a local directory, an image, a git URL; FROM name, COPY --from=name, RUN --mount from=name', async () => {
    const dir = fs.mkdtempSync(path.join(root, 'named-'));
    const extra = fs.mkdtempSync(path.join(root, 'extra-'));
    fs.writeFileSync(path.join(extra, 'data.txt'), 'extra data\n');
    fs.writeFileSync(path.join(extra, 'ignored.txt'), 'no\n');
    fs.writeFileSync(path.join(extra, '.dockerignore'), 'ignored.txt\n');
    fs.writeFileSync(
      path.join(dir, 'Dockerfile'),
      [
        'FROM busybox AS base',
        'RUN echo base > /base.txt',
        'FROM extra AS fromlocal',
        'FROM base',
        'COPY --from=extra data.txt /from-extra.txt',
        'COPY --from=fromlocal /data.txt /via-stage.txt',
        'COPY --from=img /bin/busybox /img-busybox',
        'COPY --from=repo hello.txt /repo-hello.txt',
        'RUN --mount=type=bind,from=extra,target=/mnt sh -c "cat /mnt/data.txt > /mounted.txt; ls /mnt > /mnt-listing"',
        '',
      ].join('\n'),
    );
    const args = ['--build-context', `extra=${extra}`, '--build-context', 'img=docker-image://busybox', '--build-context', `repo=git://127.0.0.1:${gitPort}/main.git`];
    let r = await d.berth(['build', '-q', '-t', 'named', ...args, dir], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    const out = (await d.docker(['run', '--rm', 'named', 'sh', '-c', 'cat /base.txt /from-extra.txt /via-stage.txt /repo-hello.txt /mounted.txt /mnt-listing; test -x /img-busybox && echo exe'])).stdout;
    assert.equal(out, 'base\nextra data\nextra data\nmain branch\nextra data\ndata.txt\nexe\n');

    // cached while the named context is unchanged; a change invalidates what used it
    r = await d.berth(['build', '--progress=plain', '-t', 'named', ...args, dir], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((r.stderr.match(/ CACHED\n/g) ?? []).length, 6, r.stderr);
    fs.writeFileSync(path.join(extra, 'data.txt'), 'changed\n');
    r = await d.berth(['build', '-q', '-t', 'named', ...args, dir], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await cat('named', '/from-extra.txt'), 'changed\n');

    // a context named like a stage replaces the stage
    r = await d.berth(['build', '-q', '-t', 'named2', ...args, '--build-context', 'base=docker-image://busybox', dir], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.notEqual((await d.docker(['run', '--rm', 'named2', 'test', '-e', '/base.txt'])).code, 0);

    r = await d.berth(['build', '-t', 'named3', '--build-context', `extra=${path.join(root, 'nope')}`, dir]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not found/);
  });

  test('compose build with build.additional_contexts', async () => {
    const proj = fs.mkdtempSync(path.join(root, 'proj-'));
    fs.mkdirSync(path.join(proj, 'app'));
    fs.mkdirSync(path.join(proj, 'shared'));
    fs.writeFileSync(path.join(proj, 'shared/lib.txt'), 'shared lib\n');
    fs.writeFileSync(path.join(proj, 'app/Dockerfile'), 'FROM base\nCOPY --from=shared lib.txt /lib.txt\n');
    fs.writeFileSync(
      path.join(proj, 'compose.yaml'),
      ['services:', '  app:', '    build:', '      context: ./app', '      additional_contexts:', '        shared: ./shared', '        base: docker-image://busybox', '    command: ["cat", "/lib.txt"]', ''].join('\n'),
    );
    const r = await d.berth(['compose', '--project-directory', proj, '-f', path.join(proj, 'compose.yaml'), '-p', 'addctx', 'build'], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(await cat('addctx-app', '/lib.txt'), 'shared lib\n');
  });

  test('RUN --mount=type=ssh forwards a real ssh-agent (--ssh default and --ssh id=keyfile)', async () => {
    const dir = fs.mkdtempSync(path.join(root, 'ssh-'));
    // ssh-add and the libraries it needs, from the host, on top of busybox
    const files = ['/usr/bin/ssh-add', ...execFileSync('/usr/bin/ldd', ['/usr/bin/ssh-add'], { encoding: 'utf8' }).split('\n').map((l) => /(\/\S+) \(0x/.exec(l)?.[1]).filter((x): x is string => !!x)];
    for (const f of files) {
      fs.mkdirSync(path.join(dir, 'rootfs', path.dirname(f)), { recursive: true });
      fs.copyFileSync(fs.realpathSync(f), path.join(dir, 'rootfs', f));
      fs.chmodSync(path.join(dir, 'rootfs', f), 0o755);
    }
    fs.writeFileSync(
      path.join(dir, 'Dockerfile'),
      [
        'FROM busybox',
        'COPY rootfs/ /',
        'RUN --mount=type=ssh sh -c \'echo "$SSH_AUTH_SOCK" > /sock; ssh-add -l > /keys; ls -l /run/buildkit > /mode\'',
        'RUN --mount=type=ssh,id=other,uid=1000,mode=0660 sh -c \'ls -n /run/buildkit/ssh_agent.0 > /other || true; echo "${SSH_AUTH_SOCK:-unset}" > /other-sock\'',
        '',
      ].join('\n'),
    );
    const agentDir = fs.mkdtempSync(path.join(root, 'agent-'));
    const sock = path.join(agentDir, 'agent.sock');
    const started = execFileSync('/usr/bin/ssh-agent', ['-a', sock, '-s'], { encoding: 'utf8' });
    const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(started)![1]);
    try {
      execFileSync('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'berth-test-key', '-f', path.join(agentDir, 'id')]);
      execFileSync('/usr/bin/ssh-add', ['-q', path.join(agentDir, 'id')], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
      const want = execFileSync('/usr/bin/ssh-add', ['-l'], { env: { ...process.env, SSH_AUTH_SOCK: sock }, encoding: 'utf8' });
      assert.match(want, /berth-test-key/);

      let r = await d.berth(['build', '-q', '-t', 'ssh1', '--ssh', 'default', dir], { timeoutMs: 120_000, env: { SSH_AUTH_SOCK: sock } });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await cat('ssh1', '/keys'), want, 'ssh-add -l in the step lists the agent\'s key');
      assert.equal(await cat('ssh1', '/sock'), '/run/buildkit/ssh_agent.0\n');
      assert.match(await cat('ssh1', '/mode'), /^srw------- /m);
      // id=other was not forwarded and is not required: no socket, no SSH_AUTH_SOCK
      assert.equal(await cat('ssh1', '/other-sock'), 'unset\n');
      assert.doesNotMatch((await d.docker(['history', '--no-trunc', 'ssh1'])).stdout, /agent\.sock/);

      // a key file: the CLI loads it into an agent of its own; uid/mode options apply
      r = await d.berth(['build', '-q', '--no-cache', '-t', 'ssh2', '--ssh', 'default', '--ssh', `other=${path.join(agentDir, 'id')}`, dir], { timeoutMs: 120_000, env: { SSH_AUTH_SOCK: sock } });
      assert.equal(r.code, 0, r.stderr);
      assert.match(await cat('ssh2', '/other'), /^srw-rw---- +1 1000 +0 /);
      assert.equal(await cat('ssh2', '/other-sock'), '/run/buildkit/ssh_agent.0\n');

      // a daemon reached over tcp: the agent travels through an ssh session of the build
      r = await d.berth(['build', '-q', '--no-cache', '-t', 'ssh4', '--ssh', 'default', '--ssh', `other=${path.join(agentDir, 'id')}`, dir], {
        timeoutMs: 120_000,
        env: { SSH_AUTH_SOCK: sock, DOCKER_HOST: tcpHost, BERTH_HOST: tcpHost },
      });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await cat('ssh4', '/keys'), want, 'ssh-add -l over tcp lists the agent\'s key');
      assert.match(await cat('ssh4', '/other'), /^srw-rw---- +1 1000 +0 /);
      // the session ends with the client: nothing of it is left in the daemon's tmp dir
      const sessions = () => fs.readdirSync(path.join(d.dataRoot, 'tmp')).filter((n) => n.startsWith('ssh-session-'));
      assert.deepEqual(await until(() => (sessions().length ? undefined : sessions()), 5000), []);

      // required, but not forwarded
      fs.writeFileSync(path.join(dir, 'Dockerfile.req'), 'FROM busybox\nRUN --mount=type=ssh,required=true sh -c true\n');
      r = await d.berth(['build', '-t', 'ssh3', '-f', path.join(dir, 'Dockerfile.req'), dir], { timeoutMs: 60_000 });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no SSH key "default" forwarded/);
      r = await d.berth(['build', '-t', 'ssh3', '--ssh', 'default', dir], { timeoutMs: 60_000, env: { SSH_AUTH_SOCK: '' } });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /SSH_AUTH_SOCK/);
    } finally {
      process.kill(pid, 'SIGTERM');
    }
    assert.equal((await d.docker(['ps', '-aq'])).stdout.trim(), '', 'no step container left');
  });
});
