// Bundles the compiled CLI (<out>/src/cli/app.js and everything it imports, lazily loaded
// commands included) into <out>/berth-cli-bundle.cjs and puts its loader at <out>/berth-cli.cjs,
// which bin/berth and the e2e tests run. npm packages stay external (required from node_modules
// at run time, as the unbundled CLI does), except the few in BUNDLED: code on the path of common
// commands, which then gets the bundle's code cache instead of being compiled on every run.
// Usage: node scripts/build-cli.mjs [outDir=dist]
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.resolve(repo, process.argv[2] ?? 'dist');
/** tar-stream and its small dependencies: every `berth build` tars its context with them. */
const BUNDLED = new Set(['tar-stream']);
const deps = Object.keys(JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')).dependencies ?? {});

await build({
  entryPoints: [path.join(out, 'src/cli/app.js')],
  outfile: path.join(out, 'berth-cli-bundle.cjs'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  // CommonJS so the loader can compile it with a code cache (vm.Script); ES modules get none in node 20
  format: 'cjs',
  external: deps.filter((d) => !BUNDLED.has(d)),
  // import() of a bundled module becomes a lazy init; of node:* or a package, a require
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': '__berth_url' },
  logLevel: 'warning',
});

// esbuild escapes non-ASCII text in strings, regular expressions and identifiers, not in the
// comments it keeps: an ASCII-only bundle lets the loader read it as latin1, a one-byte string
// that skips UTF-8 decoding (a few ms of every command for 750 kB).
const bundle = path.join(out, 'berth-cli-bundle.cjs');
const text = readFileSync(bundle, 'utf8').replace(/[^\x00-\x7f]/gu, (c) => `\\u{${c.codePointAt(0).toString(16)}}`);
new vm.Script(text, { filename: bundle }); // still valid JavaScript: the replacements were all in comments
writeFileSync(bundle, text);
writeFileSync(path.join(out, 'berth-cli.cjs'), readFileSync(path.join(repo, 'scripts/berth-cli-loader.cjs')));
