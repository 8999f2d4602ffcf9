import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The layering DESIGN.md fixes: a module may use the ones below it, never above.
// Read from the sources, so a wrong import fails here before it ships.
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SRC = path.join(REPO, 'src');

/** Layer rank inside the daemon; higher may import lower. */
const DAEMON_RANK: Record<string, number> = { stores: 0, system: 0, services: 1, api: 2 };

function layerOf(file: string): { area: string; rank?: number } {
  const rel = path.relative(SRC, file).split(path.sep);
  if (rel[0] === 'daemon') return { area: 'daemon', rank: DAEMON_RANK[rel[1] ?? ''] };
  return { area: rel[0]! };
}

function* sources(dir: string): Generator<string> {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (e.name.endsWith('.ts')) yield p;
  }
}

test('no module imports a layer above its own, and CLI and daemon never import each other', () => {
  const bad: string[] = [];
  for (const file of sources(SRC)) {
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g)) {
      const spec = (m[1] ?? m[2])!;
      const target = path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'));
      const from = layerOf(file);
      const to = layerOf(target);
      const where = `${path.relative(REPO, file)} -> ${spec}`;
      if (from.area === 'common' && to.area !== 'common') bad.push(`${where} (common must stand alone)`);
      if (from.area === 'cli' && to.area === 'daemon') bad.push(`${where} (the CLI only talks to the API)`);
      if (from.area === 'daemon' && (to.area === 'cli' || to.area === 'compose')) bad.push(`${where} (the daemon never uses client code)`);
      if (from.area === 'daemon' && to.area === 'daemon' && from.rank !== undefined && to.rank !== undefined && to.rank > from.rank) {
        bad.push(`${where} (a lower layer importing a higher one)`);
      }
    }
  }
  assert.deepEqual(bad, []);
});
