import { test } from 'node:test';
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parsePortSpec } from '../../src/compose/loader/ports.js';
import { parseVolumeSpec } from '../../src/compose/loader/volumes.js';
import { splitShellWords } from '../../src/compose/loader/shellwords.js';
import { loadProject, toConfigModel, renderConfigJson } from '../../src/compose/index.js';
import { project } from './compose-helpers.js';

test('ports: short syntax to long form', () => {
  assert.deepEqual(parsePortSpec('3000'), [{ mode: 'ingress', target: 3000, protocol: 'tcp' }]);
  assert.deepEqual(parsePortSpec(80), [{ mode: 'ingress', target: 80, protocol: 'tcp' }]);
  assert.deepEqual(parsePortSpec('8080:80/udp'), [{ mode: 'ingress', target: 80, published: '8080', protocol: 'udp' }]);
  assert.deepEqual(parsePortSpec('127.0.0.1::80'), [{ mode: 'ingress', host_ip: '127.0.0.1', target: 80, protocol: 'tcp' }]);
  assert.deepEqual(parsePortSpec('[::1]:8080:80'), [{ mode: 'ingress', host_ip: '::1', target: 80, published: '8080', protocol: 'tcp' }]);
  assert.deepEqual(parsePortSpec('8000-8001:80-81').map((p) => [p.published, p.target]), [['8000', 80], ['8001', 81]]);
  assert.deepEqual(parsePortSpec('9090-9091:8080'), [{ mode: 'ingress', target: 8080, published: '9090-9091', protocol: 'tcp' }]);
  assert.throws(() => parsePortSpec('abc:80'), /Invalid hostPort: abc/);
  assert.throws(() => parsePortSpec('80:80:80:80'), /Invalid hostPort/);
});

test('volumes: short syntax to long form', () => {
  assert.deepEqual(parseVolumeSpec('/data'), { type: 'volume', target: '/data', volume: {} });
  assert.deepEqual(parseVolumeSpec('data:/data:ro'), { type: 'volume', source: 'data', target: '/data', read_only: true, volume: {} });
  assert.deepEqual(parseVolumeSpec('data:/data:nocopy'), { type: 'volume', source: 'data', target: '/data', volume: { nocopy: true } });
  assert.deepEqual(parseVolumeSpec('./src:/app:ro,z'), { type: 'bind', source: './src', target: '/app', read_only: true, bind: { selinux: 'z', create_host_path: true } });
  assert.throws(() => parseVolumeSpec('a:b:c:d'), /too many colons/);
  assert.throws(() => parseVolumeSpec('a:/b:bogus'), /unknown option "bogus"/);
});

test('command strings are split like a shell', () => {
  assert.deepEqual(splitShellWords(`sh -c "yarn install && yarn run dev"`), ['sh', '-c', 'yarn install && yarn run dev']);
  assert.deepEqual(splitShellWords(`echo 'a b' c\\ d "x\\"y" ''`), ['echo', 'a b', 'c d', 'x"y', '']);
  assert.throws(() => splitShellWords('echo "open'));
});

test('normalisation: binds resolved (~ too), named networks and volumes, externals, secrets, long depends_on', async () => {
  const dir = project({
    'compose.yaml': `name: shop
services:
  web:
    image: web
    container_name: shop-web
    restart: unless-stopped
    volumes: ["~/cache:/cache", "../shared:/shared"]
    networks: [front, back]
    secrets: [token]
    configs: [conf]
    depends_on:
      db:
        condition: service_healthy
    healthcheck:
      test: curl -f http://localhost
      interval: 1m30s
      timeout: 10s
  db:
    image: db
    network_mode: host
networks:
  front: {}
  back:
    external: true
volumes:
  ext:
    external: true
    name: real-name
secrets:
  token:
    file: ./token.txt
configs:
  conf:
    external: true
`,
  });
  const p = await loadProject({ workingDir: dir, env: {} });
  const w = p.services.web;
  assert.deepEqual((w.volumes as Array<{ source: string }>).map((v) => v.source), [join(homedir(), 'cache'), join(dir, '..', 'shared')]);
  assert.deepEqual(w.networks, { front: null, back: null });
  assert.equal(p.services.db.networks, undefined);
  assert.deepEqual(p.networks, { front: { name: 'shop_front' }, back: { name: 'back', external: true } });
  assert.deepEqual(p.volumes, { ext: { name: 'real-name', external: true } });
  assert.deepEqual(p.secrets, { token: { name: 'shop_token', file: join(dir, 'token.txt') } });
  assert.deepEqual(p.configs, { conf: { name: 'conf', external: true } });
  assert.deepEqual(w.secrets, [{ source: 'token' }]);
  assert.deepEqual(w.depends_on, { db: { condition: 'service_healthy', required: true } });
  assert.deepEqual(w.healthcheck, { test: ['CMD-SHELL', 'curl -f http://localhost'], interval: '1m30s', timeout: '10s' });
  assert.equal(w.container_name, 'shop-web');
  assert.equal(w.restart, 'unless-stopped');
  const json = JSON.parse(renderConfigJson(toConfigModel(p)));
  assert.deepEqual(Object.keys(json), ['name', 'services', 'networks', 'volumes', 'secrets', 'configs']);
  assert.deepEqual(Object.keys(json.services.web).slice(0, 4), ['configs', 'container_name', 'depends_on', 'healthcheck']);
});
