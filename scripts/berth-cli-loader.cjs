'use strict';
// Start-up path of the berth CLI when it is bundled (npm run build writes this file next to
// berth-cli-bundle.cjs). Node 20 keeps no compile cache for ES modules, so every command paid
// for resolving, reading and compiling its module graph again. Here the whole CLI is one script
// compiled through vm.Script with V8's code cache, kept in the user's cache directory; a missing,
// stale or unwritable cache only costs the compile it would have saved.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { pathToFileURL } = require('node:url');

// bin/berth kept it from node's start-up (see there); the user's processes still get it
if (process.env.BERTH_NODE_EXTRA_CA_CERTS !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = process.env.BERTH_NODE_EXTRA_CA_CERTS;
  delete process.env.BERTH_NODE_EXTRA_CA_CERTS;
}

const bundle = path.join(__dirname, 'berth-cli-bundle.cjs');
if (stale()) {
  // tsc rebuilt the module tree after the bundle was made (a build without the bundling step)
  import(pathToFileURL(path.join(__dirname, 'src/cli/main.js')).href);
} else {
  runBundle();
}

function stale() {
  const mtime = (f) => fs.statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0;
  return mtime(path.join(__dirname, '.tsbuildinfo')) > mtime(bundle);
}

function runBundle() {
  // scripts/build-cli.mjs makes it ASCII-only: latin1 skips UTF-8 decoding
  const source = fs.readFileSync(bundle, 'latin1');
  const cache = cacheFiles();
  const cachedData = cache && readOrUndefined(cache.data);
  const script = new vm.Script(
    // the bundle reads its own location (package.json, assets) through import.meta.url
    '(function (exports, require, module, __filename, __dirname, __berth_url) {' + source + '\n})',
    { filename: bundle, cachedData, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER },
  );
  const mod = { exports: {} };
  script.runInThisContext()(mod.exports, require, mod, bundle, __dirname, pathToFileURL(bundle).href);
  const io = {
    stdout: process.stdout,
    stderr: process.stderr,
    // on first use: making process.stdin costs 2-3 ms and most commands never read it
    get stdin() {
      return process.stdin;
    },
    env: process.env,
  };
  mod.exports.runCli(process.argv.slice(2), io).then((status) => {
    if (cache) refreshCache(cache, script, cachedData !== undefined && !script.cachedDataRejected, status);
    // let pending writes to pipes drain before exiting
    process.stdout.write('', () => process.exit(status));
  });
}

/**
 * The cache file for this bundle and node (V8 rejects data from another V8 anyway, but a
 * rejected cache is a wasted read), and the list of commands that have run since it was written.
 */
function cacheFiles() {
  const off = process.env.BERTH_CLI_CACHE;
  if (off === '0' || off === 'off') return undefined;
  const home = require('node:os').homedir();
  const base = process.env.XDG_CACHE_HOME || (home ? path.join(home, '.cache') : '');
  if (!base) return undefined;
  const st = fs.statSync(bundle);
  const key = fnv1a(`${bundle}\0${st.size}\0${st.mtimeMs}\0${process.version}\0${process.arch}`);
  const dir = path.join(base, 'berth', 'cli');
  return { dir, data: path.join(dir, `${key}.v8cache`), seen: path.join(dir, `${key}.commands`) };
}

/**
 * Functions compile lazily, so the cache holds what the commands run so far used. It is
 * rewritten when it was missing or rejected and the first time each command runs, not on every
 * run: serialising it costs a few milliseconds.
 */
function refreshCache(c, script, used, status) {
  const cmd = commandOf(process.argv.slice(2));
  const seen = used ? (readOrUndefined(c.seen)?.toString('utf8') ?? '').split('\n').filter(Boolean) : [];
  // a failing command may have stopped early; a later successful run fills the cache
  if (status !== 0 || (used && (seen.includes(cmd) || seen.length > 300))) return;
  try {
    fs.mkdirSync(c.dir, { recursive: true });
    atomicWrite(c.data, script.createCachedData());
    atomicWrite(c.seen, [...seen, cmd].join('\n') + '\n');
    prune(c.dir, c.data);
  } catch {
    // an unwritable cache directory only means compiling again next time
  }
}

// Global options that take a value, and management commands, whose subcommand is part of the command.
const VALUE_FLAGS = new Set(['-H', '--host', '-c', '--context', '--config', '-l', '--log-level', '--tlscacert', '--tlscert', '--tlskey']);
const GROUPS = new Set(['builder', 'compose', 'config', 'container', 'image', 'network', 'node', 'secret', 'service', 'stack', 'swarm', 'system', 'volume']);

/** `ps`, `image ls`, … : what a command line runs, without its arguments (an image or container name is no new code) */
function commandOf(argv) {
  let i = 0;
  while (i < argv.length && argv[i].startsWith('-')) i += VALUE_FLAGS.has(argv[i]) ? 2 : 1;
  const name = argv[i];
  if (name === undefined) return '-';
  if (!GROUPS.has(name)) return name;
  const sub = argv.slice(i + 1).find((a) => !a.startsWith('-'));
  return sub ? `${name} ${sub}` : name;
}

function atomicWrite(file, data) {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/** caches of other bundles (older builds, other checkouts): keep the newest few */
function prune(dir, current) {
  const entries = fs.readdirSync(dir).filter((n) => n.endsWith('.v8cache'));
  if (entries.length <= 8) return;
  const aged = entries.map((n) => ({ n, t: fs.statSync(path.join(dir, n)).mtimeMs })).sort((a, b) => b.t - a.t);
  for (const { n } of aged.slice(8)) {
    if (path.join(dir, n) === current) continue;
    fs.rmSync(path.join(dir, n), { force: true });
    fs.rmSync(path.join(dir, n.replace(/\.v8cache$/, '.commands')), { force: true });
  }
}

function readOrUndefined(file) {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

function fnv1a(s) {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}
