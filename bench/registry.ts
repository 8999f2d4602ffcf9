/**
 * Issue 5 figures, side by side in one run: push and pull of a ~200 MB,
 * 10-layer image through a loopback registry (Debian's docker-registry),
 * berthd vs dockerd (when one answers at /var/run/docker.sock). Cold pull:
 * image and layers removed first; warm pull: the image is present.
 *
 * Usage (root): node dist/bench/registry.js [repeats=3] [layerMiB=20]
 */
import fs from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import tar from 'tar-stream';
import { median, timed } from './measure.js';
import { TestDaemon, DOCKER, run } from '../test/helpers/daemon.js';
import { TestRegistry } from '../test/helpers/registry.js';

const N = Number(process.argv[2] ?? 3);
const LAYER_MIB = Number(process.argv[3] ?? 20);
const LAYERS = 10;

async function tarOf(name: string, data: Buffer): Promise<Buffer> {
  const p = tar.pack();
  const chunks: Buffer[] = [];
  p.on('data', (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => p.on('end', () => r()));
  p.entry({ name, size: data.length, mode: 0o644, mtime: new Date(0) }, data);
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A docker-archive with 10 layers, each half random (incompressible) and half text, like real binaries and files. */
export async function makeArchive(file: string): Promise<void> {
  const half = (LAYER_MIB * 1024 * 1024) / 2;
  const layers: Buffer[] = [];
  for (let i = 0; i < LAYERS; i++) {
    const text = Buffer.alloc(half, `line ${i} of a text file that compresses well\n`);
    layers.push(await tarOf(`data/layer${i}.bin`, Buffer.concat([randomBytes(half), text])));
  }
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => 'sha256:' + sha(l)) },
      history: layers.map(() => ({ created_by: 'bench layer' })),
    }),
  );
  const p = tar.pack();
  const out = fs.createWriteStream(file);
  p.pipe(out);
  const cfgName = `${sha(config)}.json`;
  p.entry({ name: cfgName }, config);
  const names = layers.map((l) => `${sha(l)}/layer.tar`);
  layers.forEach((l, i) => p.entry({ name: names[i]! }, l));
  p.entry({ name: 'manifest.json' }, JSON.stringify([{ Config: cfgName, RepoTags: ['bench/big:1'], Layers: names }]));
  p.finalize();
  await new Promise<void>((r) => out.on('close', () => r()));
}

type Cli = (args: string[], o?: { input?: string }) => Promise<{ code: number; stdout: string; stderr: string }>;

async function must(cli: Cli, args: string[]) {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return r;
}

async function measure(name: string, cli: Cli, archive: string, registry: string): Promise<Record<string, number>> {
  await must(cli, ['load', '-q', '-i', archive]);
  const repo = name.replace(/[^a-z]/g, '');
  const ref = `${registry}/${repo}/big:1`;
  await must(cli, ['tag', 'bench/big:1', ref]);
  const push: number[] = [];
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < N; i++) {
    // A fresh repository each time, so every blob really travels (no cross-repo mount either: a new name each round).
    const r = `${registry}/${repo}/big${i}:1`;
    await must(cli, ['tag', 'bench/big:1', r]);
    push.push(await timed(() => must(cli, ['push', '-q', r])));
  }
  for (let i = 0; i < N; i++) {
    const r = `${registry}/${repo}/big0:1`;
    // Everything goes: every tag of the image, so its layers are removed too.
    const tags = (await cli(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.split('\n').filter((t) => t.includes('/big'));
    await cli(['rmi', '-f', ...tags]);
    cold.push(await timed(() => must(cli, ['pull', '-q', r])));
    warm.push(await timed(() => must(cli, ['pull', '-q', r])));
  }
  await cli(['rmi', '-f', ...(await cli(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.split('\n').filter((t) => t.includes('big'))]);
  const res = { push: median(push), cold: median(cold), warm: median(warm) };
  console.log(`  ${name.padEnd(14)} push ${res.push.toFixed(0).padStart(6)} ms   cold pull ${res.cold.toFixed(0).padStart(6)} ms   warm pull ${res.warm.toFixed(0).padStart(6)} ms`);
  return res;
}

async function main(): Promise<void> {
  const d = new TestDaemon();
  const reg = new TestRegistry(path.join(d.dir, 'registry'));
  const archive = path.join(d.dir, 'big.tar');
  try {
    await Promise.all([d.start(['--log-level', 'error']), reg.start(), makeArchive(archive)]);
    console.log(`push/pull of a ${LAYERS}-layer, ${LAYERS * LAYER_MIB} MiB image through ${reg.host}, median of ${N}`);
    const b = await measure('berth', (a, o) => d.berth(a, { input: o?.input, timeoutMs: 600_000 }), archive, reg.host);
    // The same engine through the Go docker CLI: separates berthd's time from the Node CLI's start-up.
    const db = await measure('docker>berthd', (a, o) => d.docker(a, { input: o?.input, timeoutMs: 600_000 }), archive, reg.host);
    const dockerd = fs.existsSync('/var/run/docker.sock') && (await run(DOCKER, ['-H', 'unix:///var/run/docker.sock', 'version'], { timeoutMs: 10_000 })).code === 0;
    if (dockerd) {
      const k = await measure('dockerd', (a, o) => run(DOCKER, ['-H', 'unix:///var/run/docker.sock', ...a], { input: o?.input, timeoutMs: 600_000 }), archive, reg.host);
      console.log(`  ratio berth/dockerd: push ${(b.push / k.push).toFixed(2)}   cold pull ${(b.cold / k.cold).toFixed(2)}   warm pull ${(b.warm / k.warm).toFixed(2)}`);
      console.log(`  ratio berthd/dockerd (docker CLI both): push ${(db.push / k.push).toFixed(2)}   cold pull ${(db.cold / k.cold).toFixed(2)}   warm pull ${(db.warm / k.warm).toFixed(2)}`);
    } else {
      console.log('  dockerd: not running, no comparison');
    }
  } finally {
    await reg.stop();
    await d.cleanup();
  }
}

if (process.argv[1]?.endsWith("registry.js")) await main();
