// The compose files of the seed tutorials load and normalise as `docker compose config` shows them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadProject, loadProjectWithWarnings, toConfigModel, renderConfigYaml } from '../../src/compose/index.js';
import { project } from './compose-helpers.js';

const TODO = `services:
  app:
    image: node:18-alpine
    command: sh -c "yarn install && yarn run dev"
    ports:
      - 127.0.0.1:3000:3000
    working_dir: /app
    volumes:
      - ./:/app
    environment:
      MYSQL_HOST: mysql
      MYSQL_USER: root
      MYSQL_PASSWORD: secret
      MYSQL_DB: todos

  mysql:
    image: mysql:8.0
    volumes:
      - todo-mysql-data:/var/lib/mysql
    environment:
      MYSQL_ROOT_PASSWORD: secret
      MYSQL_DATABASE: todos

volumes:
  todo-mysql-data:
`;

const FLASK = `services:
  web:
    build: .
    ports:
      - "8000:5000"
  redis:
    image: "redis:alpine"
`;

const WORDPRESS = `version: '3'

services:
   db:
     image: mysql:5.7
     volumes:
       - db_data:/var/lib/mysql
     restart: always
     environment:
       MYSQL_ROOT_PASSWORD: somewordpress
       MYSQL_DATABASE: wordpress
       MYSQL_USER: wordpress
       MYSQL_PASSWORD: wordpress

   wordpress:
     depends_on:
       - db
     image: wordpress:latest
     ports:
       - "8000:80"
     restart: always
     environment:
       WORDPRESS_DB_HOST: db:3306
       WORDPRESS_DB_USER: wordpress
       WORDPRESS_DB_PASSWORD: wordpress
volumes:
    db_data:
`;

test('seed: todo app with MySQL prints as docker compose config does', async () => {
  const dir = project({ 'compose.yaml': TODO }, 'app');
  const p = await loadProject({ workingDir: dir, env: {} });
  const expected = `name: app
services:
  app:
    command:
      - sh
      - -c
      - yarn install && yarn run dev
    environment:
      MYSQL_DB: todos
      MYSQL_HOST: mysql
      MYSQL_PASSWORD: secret
      MYSQL_USER: root
    image: node:18-alpine
    networks:
      default: null
    ports:
      - mode: ingress
        host_ip: 127.0.0.1
        target: 3000
        published: "3000"
        protocol: tcp
    volumes:
      - type: bind
        source: ${dir}
        target: /app
        bind:
          create_host_path: true
    working_dir: /app
  mysql:
    environment:
      MYSQL_DATABASE: todos
      MYSQL_ROOT_PASSWORD: secret
    image: mysql:8.0
    networks:
      default: null
    volumes:
      - type: volume
        source: todo-mysql-data
        target: /var/lib/mysql
        volume: {}
networks:
  default:
    name: app_default
volumes:
  todo-mysql-data:
    name: app_todo-mysql-data
`;
  assert.equal(renderConfigYaml(toConfigModel(p)), expected);
});

test('seed: Flask + Redis, build shorthand becomes context + Dockerfile', async () => {
  const dir = project({ 'compose.yaml': FLASK }, 'composetest');
  const p = await loadProject({ workingDir: dir, env: {} });
  assert.equal(p.name, 'composetest');
  assert.deepEqual(p.services.web.build, { context: dir, dockerfile: 'Dockerfile' });
  assert.deepEqual(p.services.web.ports, [{ mode: 'ingress', target: 5000, published: '8000', protocol: 'tcp' }]);
  assert.equal(p.services.redis.image, 'redis:alpine');
  assert.deepEqual(Object.keys(p.services).sort(), ['redis', 'web']);
  assert.deepEqual(p.networks, { default: { name: 'composetest_default' } });
});

test('seed: WordPress + MySQL (docker-compose.yml, version 3) normalises depends_on and restart', async () => {
  const dir = project({ 'docker-compose.yml': WORDPRESS }, 'my_wordpress');
  const { project: p, warnings } = await loadProjectWithWarnings({ workingDir: dir, env: {} });
  assert.match(warnings[0], /docker-compose\.yml: the attribute `version` is obsolete/);
  assert.equal(p.name, 'my_wordpress');
  assert.deepEqual(p.services.wordpress.depends_on, { db: { condition: 'service_started', required: true } });
  assert.equal(p.services.db.restart, 'always');
  assert.deepEqual(p.services.wordpress.environment, { WORDPRESS_DB_HOST: 'db:3306', WORDPRESS_DB_USER: 'wordpress', WORDPRESS_DB_PASSWORD: 'wordpress' });
  assert.deepEqual(p.volumes, { db_data: { name: 'my_wordpress_db_data' } });
  assert.equal(p.composeFiles[0], join(dir, 'docker-compose.yml'));
  const yaml = renderConfigYaml(toConfigModel(p));
  assert.doesNotMatch(yaml, /version/);
  assert.match(yaml, /    depends_on:\n      db:\n        condition: service_started\n        required: true\n/);
});
