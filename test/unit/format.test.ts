import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  displayablePorts, ellipsis, formatContainers, formatHistory, formatImages, formatInspect, renderList, tabwrite, truncateID,
} from '../../src/cli/format/index.js';

process.env.TZ = 'UTC';
const now = new Date('2024-01-01T00:10:00Z');
const t = now.getTime() / 1000;

const web = {
  Id: '4c01db0b339c8f1d2b7a6d3e6c1b2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b',
  Names: ['/web'],
  Image: 'nginx:latest',
  ImageID: 'sha256:aaaa',
  Command: "/docker-entrypoint.sh nginx -g 'daemon off;'",
  Created: t - 300,
  State: 'running',
  Status: 'Up 5 minutes',
  Ports: [
    { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' },
    { PrivatePort: 443, Type: 'tcp' },
  ],
  Labels: { b: '2', a: '1' },
  Mounts: [{ Name: 'data', Source: '/var/lib/x', Driver: 'local' }],
  NetworkSettings: { Networks: { bridge: { IPAddress: '172.17.0.2' } } },
};
const db = {
  Id: 'd7886598dbe2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  Names: ['/db', '/web/db'],
  Image: 'docker.io/library/postgres@sha256:0123456789012345678901234567890123456789012345678901234567890123',
  ImageID: 'sha256:bbbb',
  Command: 'sh',
  Created: t - 7200,
  State: 'exited',
  Status: 'Exited (0) 2 hours ago',
  Ports: [],
  Labels: {},
  Mounts: [{ Name: '', Source: '/very/long/path/to/source', Driver: '' }],
};

test('tabwriter: docker table settings (minwidth 10, padding 3), last cell unpadded', () => {
  assert.equal(tabwrite('A\tBB\tC\nlonger value\tx\ty\n'), 'A              BB        C\nlonger value   x         y\n');
  // A line without tabs ends the block: columns re-align after it.
  assert.equal(tabwrite('a\tb\nplain\nlonglonglong\tc\n'), 'a         b\nplain\nlonglonglong   c\n');
  // Wide characters count double, like go-runewidth.
  assert.equal(tabwrite('名前\tx\nab\ty\n'), '名前      x\nab        y\n');
});

test('docker ps default table', () => {
  const out = formatContainers([web, db], { now });
  assert.equal(
    out,
    'CONTAINER ID   IMAGE          COMMAND                  CREATED         STATUS                   PORTS                           NAMES\n' +
      '4c01db0b339c   nginx:latest   "/docker-entrypoint.…"   5 minutes ago   Up 5 minutes             443/tcp, 0.0.0.0:8080->80/tcp   web\n' +
      'd7886598dbe2   postgres       "sh"                     2 hours ago     Exited (0) 2 hours ago                                   db\n',
  );
});

test('docker ps with no containers prints only the header', () => {
  assert.equal(formatContainers([], { now }), 'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n');
});

test('docker ps --no-trunc keeps ids, commands, images and link names', () => {
  const out = formatContainers([db], { now, noTrunc: true, format: '{{.ID}} {{.Command}} {{.Image}} {{.Names}}' });
  assert.equal(out, `${db.Id} "sh" ${db.Image} db,web/db\n`);
});

test('docker ps -q and custom formats', () => {
  assert.equal(formatContainers([web, db], { now, quiet: true }), '4c01db0b339c\nd7886598dbe2\n');
  assert.equal(formatContainers([web, db], { now, format: '{{.ID}}\\t{{.Names}}' }), '4c01db0b339c\tweb\nd7886598dbe2\tdb\n');
  assert.equal(
    formatContainers([web, db], { now, format: 'table {{.Names}}\\t{{.Labels}}\\t{{.Mounts}}\\t{{.LocalVolumes}}\\t{{.Networks}}' }),
    'NAMES     LABELS    MOUNTS            LOCAL VOLUMES   NETWORKS\n' +
      'web       a=1,b=2   data              1               bridge\n' +
      'db                  /very/long/pat…   0               \n',
  );
  assert.equal(formatContainers([web], { now, format: '{{.Label "a"}} {{.State}} {{.CreatedAt}}' }), '1 running 2024-01-01 00:05:00 +0000 UTC\n');
  assert.equal(formatContainers([web], { now, size: true }).split('\n')[0]!.endsWith('NAMES     SIZE'), true);
});

test('docker ps --format json: one sorted JSON object per line, the fields docker 28.2 prints', () => {
  const out = formatContainers([web], { now, format: 'json' });
  assert.equal(
    out,
    '{"Command":"\\"/docker-entrypoint.…\\"","CreatedAt":"2024-01-01 00:05:00 +0000 UTC",' +
      '"ID":"4c01db0b339c","Image":"nginx:latest",' +
      '"Labels":"a=1,b=2","LocalVolumes":"1","Mounts":"data","Names":"web","Networks":"bridge","Platform":null,' +
      '"Ports":"443/tcp, 0.0.0.0:8080->80/tcp","RunningFor":"5 minutes ago","Size":"0B","State":"running","Status":"Up 5 minutes"}\n',
  );
});

test('template errors are reported like docker', () => {
  assert.throws(() => formatContainers([web], { format: '{{.Nope}}' }), {
    message: 'template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type *formatter.ContainerContext',
  });
  assert.throws(() => formatContainers([web], { format: '{{foo}}' }), {
    message: 'template parsing error: template: :1: function "foo" not defined',
  });
});

test('displayablePorts groups ranges and host mappings as docker does', () => {
  assert.equal(
    displayablePorts([
      { PrivatePort: 9090, Type: 'tcp' },
      { PrivatePort: 9091, Type: 'tcp' },
      { PrivatePort: 9092, Type: 'tcp' },
      { PrivatePort: 53, Type: 'udp' },
      { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 80, Type: 'tcp' },
      { IP: '0.0.0.0', PrivatePort: 81, PublicPort: 81, Type: 'tcp' },
      { IP: '::', PrivatePort: 22, PublicPort: 2222, Type: 'tcp' },
    ]),
    '53/udp, 0.0.0.0:80-81->80-81/tcp, 9090-9092/tcp, [::]:2222->22/tcp',
  );
});

test('ellipsis and truncateID', () => {
  assert.equal(ellipsis('abcdefghijklmnopqrstuvwxyz', 20), 'abcdefghijklmnopqrs…');
  assert.equal(ellipsis('short', 20), 'short');
  assert.equal(ellipsis('名前名前名前', 5), '名前…');
  assert.equal(truncateID('sha256:fb7bdfa2d31b2d8d1f6e'), 'fb7bdfa2d31b');
  assert.equal(truncateID('<missing>'), '<missing>');
});

const busybox = {
  Id: 'sha256:fb7bdfa2d31b2d8d1f6ef7b1bb40d8c3efee5b4c4a42c2d23b8e9d2c50c7a021',
  RepoTags: ['busybox:latest', 'localhost:5000/tools/busybox:v1'],
  RepoDigests: ['busybox@sha256:0123456789012345678901234567890123456789012345678901234567890123'],
  Created: t - 3 * 86400,
  Size: 4261550,
};
const dangling = { Id: 'sha256:abcdef1234567890abcdef', RepoTags: [], RepoDigests: [], Created: t - 60, Size: 999 };

test('docker images default table with <none> rows', () => {
  assert.equal(
    formatImages([busybox, dangling], { now }),
    'REPOSITORY                     TAG       IMAGE ID       CREATED              SIZE\n' +
      'busybox                        latest    fb7bdfa2d31b   3 days ago           4.26MB\n' +
      'localhost:5000/tools/busybox   v1        fb7bdfa2d31b   3 days ago           4.26MB\n' +
      '<none>                         <none>    abcdef123456   About a minute ago   999B\n',
  );
});

test('docker images --digests and -q', () => {
  assert.equal(
    formatImages([busybox], { now, digests: true, format: 'table {{.Repository}}\\t{{.Tag}}' }),
    'REPOSITORY                     TAG       DIGEST\n' +
      'busybox                        latest    sha256:0123456789012345678901234567890123456789012345678901234567890123\n' +
      'localhost:5000/tools/busybox   v1        <none>\n',
  );
  assert.equal(formatImages([busybox, dangling], { now, quiet: true }), 'fb7bdfa2d31b\nfb7bdfa2d31b\nabcdef123456\n');
});

test('docker history: <missing> ids, CREATED BY cut at 45, human sizes', () => {
  const hist = [
    { Id: busybox.Id, Created: t - 14 * 86400, CreatedBy: '/bin/sh -c #(nop)  CMD ["sh"]', Size: 0, Comment: '' },
    {
      Id: '<missing>',
      Created: t - 14 * 86400,
      CreatedBy: '/bin/sh -c #(nop) ADD file:7e9002edaafd4e4579b65c8f0aaabde1aeb7fd3f8d95579f7fd3443cef785fd1 in / ',
      Size: 4261550,
      Comment: '',
    },
  ];
  assert.equal(
    formatHistory(hist, { now }),
    'IMAGE          CREATED       CREATED BY                                      SIZE      COMMENT\n' +
      'fb7bdfa2d31b   2 weeks ago   /bin/sh -c #(nop)  CMD ["sh"]                   0B        \n' +
      '<missing>      2 weeks ago   /bin/sh -c #(nop) ADD file:7e9002edaafd4e457…   4.26MB    \n',
  );
  assert.equal(formatHistory(hist, { now, human: false, format: '{{.CreatedAt}} {{.Size}}' }), '2023-12-18T00:10:00Z 0\n2023-12-18T00:10:00Z 4261550\n');
  assert.equal(formatHistory(hist, { now, quiet: true }), 'fb7bdfa2d31b\n<missing>\n');
});

test('docker inspect: 4-space indented array with HTML-safe escaping, or template per object', () => {
  assert.equal(
    formatInspect([{ Id: 'x', Cmd: ['sh', '-c', 'a && b > c'], Env: [], Labels: {} }]),
    '[\n    {\n        "Id": "x",\n        "Cmd": [\n            "sh",\n            "-c",\n            "a \\u0026\\u0026 b \\u003e c"\n        ],\n' +
      '        "Env": [],\n        "Labels": {}\n    }\n]\n',
  );
  assert.equal(formatInspect([]), '[]\n');
  assert.equal(
    formatInspect([{ Name: '/a', State: { Running: true } }, { Name: '/b', State: { Running: false } }], '{{.Name}} {{.State.Running}}'),
    '/a true\n/b false\n',
  );
  assert.equal(formatInspect([{ Config: { Labels: { k: 'v' } } }], '{{json .Config.Labels}}'), '{"k":"v"}\n');
});

test('renderList: table, table template, json and raw formats', () => {
  const rows = [{ ID: 'a1', Name: 'one' }, { ID: 'b2', Name: 'two' }];
  const header = { ID: 'ID', Name: 'NAME' };
  assert.equal(renderList(undefined, rows, 'table {{.ID}}\\t{{.Name}}', { header }), 'ID        NAME\na1        one\nb2        two\n');
  assert.equal(renderList('table {{.Name}}', rows, 'x', { header }), 'NAME\none\ntwo\n');
  assert.equal(renderList('json', rows, 'x', { header }), '{"ID":"a1","Name":"one"}\n{"ID":"b2","Name":"two"}\n');
  assert.equal(renderList('{{.Name}}', rows, 'x', { header }), 'one\ntwo\n');
  assert.equal(renderList('table', rows, 'table {{.ID}}', { quiet: true, quietField: 'Name' }), 'one\ntwo\n');
});
