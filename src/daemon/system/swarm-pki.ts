// The cluster's certificate authority and node certificates, made with the
// openssl CLI (node:crypto makes keys but not X.509 certificates). Keys are
// ECDSA P-256 like swarmkit's. Each node certificate names the node (CN), its
// role (OU swarm-manager|swarm-worker) and the cluster (O), and is good for
// TLS both ways: it serves the cluster endpoint and etcd, and it is the client
// certificate a node shows to managers and etcd.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';

const OPENSSL = '/usr/bin/openssl';

function openssl(args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(OPENSSL, args, { cwd, encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`openssl ${args[0]}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    }),
  );
}

async function inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'berth-pki-'));
  try {
    return await fn(dir);
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

export interface KeyPair {
  key: string;
  cert: string;
}

export function createRootCA(): Promise<KeyPair> {
  return inTempDir(async (d) => {
    await openssl(['ecparam', '-genkey', '-name', 'prime256v1', '-noout', '-out', 'ca.key'], d);
    await openssl(['req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '7300', '-subj', '/CN=swarm-ca', '-out', 'ca.crt'], d);
    return { key: await fs.promises.readFile(path.join(d, 'ca.key'), 'utf8'), cert: await fs.promises.readFile(path.join(d, 'ca.crt'), 'utf8') };
  });
}

/** A new private key and a request for a certificate; the signer decides the subject. */
export function createKeyAndCsr(): Promise<{ key: string; csr: string }> {
  return inTempDir(async (d) => {
    await openssl(['ecparam', '-genkey', '-name', 'prime256v1', '-noout', '-out', 'n.key'], d);
    await openssl(['req', '-new', '-key', 'n.key', '-subj', '/CN=pending', '-out', 'n.csr'], d);
    return { key: await fs.promises.readFile(path.join(d, 'n.key'), 'utf8'), csr: await fs.promises.readFile(path.join(d, 'n.csr'), 'utf8') };
  });
}

/** `days`: validity (the swarm's NodeCertExpiry, in whole days as openssl takes it; default 90). */
export function signNodeCsr(ca: KeyPair, csr: string, o: { nodeId: string; role: 'manager' | 'worker'; clusterId: string; ips: string[]; days?: number }): Promise<string> {
  if (!/^[a-z0-9]+$/.test(o.nodeId) || !/^[a-z0-9]+$/.test(o.clusterId)) throw new Error('invalid node or cluster ID');
  const ips = [...new Set([...o.ips, '127.0.0.1'])].filter((ip) => /^[0-9.]+$|^[0-9a-f:]+$/i.test(ip));
  return inTempDir(async (d) => {
    await fs.promises.writeFile(path.join(d, 'ca.key'), ca.key, { mode: 0o600 });
    await fs.promises.writeFile(path.join(d, 'ca.crt'), ca.cert);
    await fs.promises.writeFile(path.join(d, 'n.csr'), csr);
    await fs.promises.writeFile(
      path.join(d, 'ext'),
      // The authority key ID tells verifiers which root signed it when two roots share a subject (a CA rotation).
      `subjectAltName=${ips.map((ip) => `IP:${ip}`).join(',')},DNS:swarm-${o.role}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=digitalSignature,keyEncipherment\nauthorityKeyIdentifier=keyid\n`,
    );
    await openssl(
      ['x509', '-req', '-in', 'n.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', String(Math.max(1, Math.ceil(o.days ?? 90))), '-sha256',
       '-subj', `/O=${o.clusterId}/OU=swarm-${o.role}/CN=${o.nodeId}`, '-extfile', 'ext', '-out', 'n.crt'],
      d,
    );
    return fs.promises.readFile(path.join(d, 'n.crt'), 'utf8');
  });
}

/** Identity a peer's certificate states (checked against the CA by TLS before this is read). */
export function certIdentity(pemOrDer: string | Buffer): { nodeId: string; role: 'manager' | 'worker' | undefined; clusterId: string } {
  const c = new X509Certificate(pemOrDer);
  const field = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(c.subject)?.[1] ?? '';
  const ou = field('OU');
  return { nodeId: field('CN'), clusterId: field('O'), role: ou === 'swarm-manager' ? 'manager' : ou === 'swarm-worker' ? 'worker' : undefined };
}

/** The certificates of a PEM bundle, each as its own PEM (with a final newline). */
export function certsIn(bundle: string): string[] {
  return (bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map((c) => c + '\n');
}

/** Which of the roots in `bundle` signed `certPem`; undefined: none of them. */
export function issuingRoot(certPem: string, bundle: string): string | undefined {
  const c = new X509Certificate(certPem);
  return certsIn(bundle).find((r) => {
    const root = new X509Certificate(r);
    return c.checkIssued(root) && c.verify(root.publicKey);
  });
}

/** One DER element at `off`: its tag, where its content starts, and where it ends. */
function derAt(b: Buffer, off: number): { tag: number; body: number; end: number } {
  const tag = b[off]!;
  let len = b[off + 1]!;
  let body = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[body + i]!;
    body += n;
  }
  return { tag, body, end: body + len };
}

/**
 * docker's TLSInfo of a root: its subject and public key as DER (base64 in
 * JSON), which nodes and the CLI compare to tell which root issued a node's
 * certificate. node:crypto gives the key's DER but not the subject's, so the
 * subject is read from the certificate's TBS (version, serial, algorithm,
 * issuer, validity, subject).
 */
export function rootTlsInfo(rootPem: string): { TrustRoot: string; CertIssuerSubject: string; CertIssuerPublicKey: string } {
  const c = new X509Certificate(rootPem);
  const der = c.raw;
  const tbs = derAt(der, derAt(der, 0).body);
  let off = tbs.body;
  if (derAt(der, off).tag === 0xa0) off = derAt(der, off).end;
  for (let i = 0; i < 4; i++) off = derAt(der, off).end;
  const subject = der.subarray(off, derAt(der, off).end);
  return {
    TrustRoot: rootPem,
    CertIssuerSubject: subject.toString('base64'),
    CertIssuerPublicKey: (c.publicKey.export({ type: 'spki', format: 'der' }) as Buffer).toString('base64'),
  };
}

/** A root CA given by the user (`swarm ca --rotate --ca-cert --ca-key`): one CA certificate, and the key that goes with it. */
export function checkRootCA(certPem: string, keyPem: string): KeyPair {
  const certs = certsIn(certPem);
  if (certs.length !== 1) throw new Error('the root CA certificate must be exactly one PEM-encoded certificate');
  const c = new X509Certificate(certs[0]!);
  if (!c.ca) throw new Error('the root CA certificate is not a CA certificate');
  if (!c.checkIssued(c) || !c.verify(c.publicKey)) throw new Error('the root CA certificate is not self-signed');
  if (new Date(c.validTo).getTime() < Date.now()) throw new Error('the root CA certificate has expired');
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new Error('the root CA key is not a valid PEM-encoded private key');
  }
  if (!c.checkPrivateKey(key)) throw new Error('the root CA key does not match the root CA certificate');
  return { cert: certs[0]!, key: keyPem };
}
