// berth swarm ca: show the root CA, or rotate it and follow the rotation
// (docker's progress: how many nodes have a certificate from the new root,
// then how many trust only it).
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import type { Command, Ctx } from '../command.js';
import { StatusError, type ParsedFlags } from '../flags.js';
import { parseGoDuration } from '../../common/units.js';

const CERTS = '  rotated TLS certificates';
const ROOTS = '  rotated CA certificates';
/** How long the progress may fail to read the swarm (a manager restarts its etcd member with the new roots) before giving up. */
const UNREACHABLE_MS = 60_000;

function displayTrustRoot(ctx: Ctx, swarm: any): number {
  const root = String(swarm?.TLSInfo?.TrustRoot ?? '');
  if (!root) throw new StatusError('No CA information available', 1);
  ctx.stdout.write(root.trim() + '\n');
  return 0;
}

/** docker's JSONProgress bar for `current/total units`. */
function bar(current: number, total: number): string {
  const pct = total > 0 ? Math.floor(Math.floor((current / total) * 100) / 2) : 0;
  return `[${'='.repeat(pct)}>${' '.repeat(50 - pct)}] ${current}/${total} nodes`;
}

function pemFile(flags: ParsedFlags, name: string): string {
  const file = flags.string(name);
  if (!flags.changed(name)) return '';
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new StatusError(`invalid argument "${file}" for "--${name}" flag: ${(e as Error).message}`, 125);
  }
  if (!text.includes('-----BEGIN ')) throw new StatusError(`invalid argument "${file}" for "--${name}" flag: file contents must be in PEM format`, 125);
  return text;
}

/** Follows the rotation until every node has a certificate from the new root and trusts only it. */
async function follow(ctx: Ctx, quiet: boolean): Promise<void> {
  const tty = !!ctx.stdout.isTTY && !quiet;
  let drawn = 0;
  let lines: string[] = [];
  const draw = () => {
    if (!tty) return;
    ctx.stdout.write((drawn ? `\x1b[${drawn}A` : '') + lines.map((l) => `\x1b[2K${l}\n`).join(''));
    drawn = lines.length;
  };
  let failingSince: number | undefined;
  let done = false;
  for (;;) {
    let swarm: any;
    let nodes: any[];
    try {
      swarm = await ctx.client.get('/swarm');
      if (done) break;
      nodes = await ctx.client.get('/nodes');
      failingSince = undefined;
    } catch (e) {
      failingSince ??= Date.now();
      if (Date.now() - failingSince > UNREACHABLE_MS) throw e;
      await new Promise((r) => setTimeout(r, 500));
      continue;
    }
    const want = swarm.TLSInfo ?? {};
    let certs = 0;
    let roots = 0;
    for (const n of nodes) {
      const t = n.Description?.TLSInfo ?? {};
      if (t.CertIssuerPublicKey === want.CertIssuerPublicKey && t.CertIssuerSubject === want.CertIssuerSubject) certs++;
      if (t.TrustRoot === want.TrustRoot) roots++;
    }
    const total = nodes.length;
    const converged = certs === total && !swarm.RootRotationInProgress;
    lines = [
      `desired root digest: sha256:${createHash('sha256').update(String(want.TrustRoot ?? '')).digest('hex')}`,
      `${CERTS}:  ${bar(certs, total)}`,
      `${ROOTS}:   ${bar(converged ? roots : 0, total)}`,
    ];
    draw();
    done = converged && roots === total;
    await new Promise((r) => setTimeout(r, 200));
  }
  // without a terminal there is nothing to redraw: the converged state, once
  if (!tty && !quiet) ctx.stdout.write(lines.map((l) => l + '\n').join(''));
}

export const command: Command = {
  spec: {
    use: 'ca [OPTIONS]',
    short: 'Display and rotate the root CA',
    aliases: ['berth swarm ca'],
    flags: [
      { name: 'ca-cert', type: 'pem-file', usage: 'Path to the PEM-formatted root CA certificate to use for the new cluster' },
      { name: 'ca-key', type: 'pem-file', usage: 'Path to the PEM-formatted root CA key to use for the new cluster' },
      { name: 'cert-expiry', type: 'duration', usage: 'Validity period for node certificates (ns|us|ms|s|m|h)', def: '2160h0m0s' },
      { name: 'detach', short: 'd', type: 'bool', usage: 'Exit immediately instead of waiting for the root rotation to converge' },
      { name: 'external-ca', type: 'external-ca', usage: 'Specifications of one or more certificate signing endpoints' },
      { name: 'quiet', short: 'q', type: 'bool', usage: 'Suppress progress output' },
      { name: 'rotate', type: 'bool', usage: 'Rotate the swarm CA - if no certificate or key are provided, new ones will be generated' },
    ],
    args: { kind: 'none' },
  },
  async run(ctx, flags) {
    const swarm = await ctx.client.get('/swarm');
    if (!flags.bool('rotate')) {
      for (const f of ['ca-cert', 'ca-key', 'cert-expiry', 'external-ca']) {
        if (flags.changed(f)) throw new StatusError(`\`--${f}\` flag requires the \`--rotate\` flag to update the CA`, 1);
      }
      return displayTrustRoot(ctx, swarm);
    }
    const external = flags.list('external-ca').filter((x) => x);
    if (flags.changed('external-ca') && external.length && !flags.changed('ca-cert')) {
      throw new StatusError(
        'rotating to an external CA requires the `--ca-cert` flag to specify the external CA\'s cert - to add an external CA with the current root CA certificate, use the `update` command instead',
        1,
      );
    }
    if (flags.changed('ca-cert') && !external.length && !flags.changed('ca-key')) {
      throw new StatusError('the --ca-cert flag requires that a --ca-key flag and/or --external-ca flag be provided as well', 1);
    }
    if (external.length) throw new StatusError('berth does not support external CAs yet: rotate with --ca-cert and --ca-key, or neither', 1);
    const caCert = pemFile(flags, 'ca-cert');
    const caKey = pemFile(flags, 'ca-key');
    const spec = swarm.Spec;
    spec.CAConfig ??= {};
    if (flags.changed('cert-expiry')) {
      try {
        spec.CAConfig.NodeCertExpiry = parseGoDuration(flags.string('cert-expiry')) * 1e6;
      } catch (e) {
        throw new StatusError(`invalid argument "${flags.string('cert-expiry')}" for "--cert-expiry" flag: ${(e as Error).message}`, 125);
      }
    }
    spec.CAConfig.SigningCACert = caCert;
    spec.CAConfig.SigningCAKey = caKey;
    if (!caCert && !caKey) spec.CAConfig.ForceRotate = Number(spec.CAConfig.ForceRotate ?? 0) + 1;
    await ctx.client.post('/swarm/update', { version: swarm.Version.Index }, spec);
    if (flags.bool('detach')) return 0;
    await follow(ctx, flags.bool('quiet'));
    if (flags.bool('quiet')) return 0;
    return displayTrustRoot(ctx, await ctx.client.get('/swarm'));
  },
};
