// The PKI pieces of a root CA rotation: which root issued a certificate, docker's TLSInfo of a root, user-given roots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { certsIn, checkRootCA, createKeyAndCsr, createRootCA, issuingRoot, rootTlsInfo, signNodeCsr } from '../../src/daemon/system/swarm-pki.js';

test('node certificates are told apart by the root that issued them, also when the roots share a subject', async () => {
  const [r1, r2] = [await createRootCA(), await createRootCA()];
  const { csr } = await createKeyAndCsr();
  const cert = await signNodeCsr(r2, csr, { nodeId: 'abc', role: 'worker', clusterId: 'def', ips: ['10.1.2.3'], days: 2 });
  assert.equal(issuingRoot(cert, r1.cert + r2.cert), r2.cert);
  assert.equal(issuingRoot(cert, r1.cert), undefined);
  assert.deepEqual(certsIn(r1.cert + r2.cert), [r1.cert, r2.cert]);
  const c = new X509Certificate(cert);
  const days = (new Date(c.validTo).getTime() - new Date(c.validFrom).getTime()) / 86_400_000;
  assert.ok(days > 1.9 && days < 2.1, `validity ${days} days`);
});

test("a root's TLSInfo: its subject and public key as DER", async () => {
  const r = await createRootCA();
  const info = rootTlsInfo(r.cert);
  assert.equal(info.TrustRoot, r.cert);
  // SEQUENCE { SET { SEQUENCE { OID 2.5.4.3, "swarm-ca" } } }
  assert.match(Buffer.from(info.CertIssuerSubject, 'base64').toString('latin1'), /^\x30.*\x55\x04\x03.*swarm-ca$/s);
  assert.notEqual(info.CertIssuerPublicKey, rootTlsInfo((await createRootCA()).cert).CertIssuerPublicKey);
});

test('a user-given root must be one CA certificate with its key', async () => {
  const [r1, r2] = [await createRootCA(), await createRootCA()];
  assert.equal(checkRootCA(r1.cert, r1.key).cert, r1.cert);
  assert.throws(() => checkRootCA(r1.cert, r2.key), /does not match/);
  assert.throws(() => checkRootCA(r1.cert + r2.cert, r1.key), /exactly one/);
  assert.throws(() => checkRootCA(r1.cert, 'nonsense'), /not a valid/);
  const { csr } = await createKeyAndCsr();
  const leaf = await signNodeCsr(r1, csr, { nodeId: 'abc', role: 'worker', clusterId: 'def', ips: [] });
  assert.throws(() => checkRootCA(leaf, r1.key), /not a CA/);
});
