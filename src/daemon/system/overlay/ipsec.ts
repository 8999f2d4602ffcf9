/**
 * Whether this kernel can encrypt overlay traffic the way docker's
 * `--opt encrypted` does: IPsec ESP in transport mode (xfrm states and
 * policies). Asked of the kernel itself — adding one ESP state in a
 * throw-away network namespace — since a kernel may have xfrm (`ip xfrm`
 * answers) and still lack the ESP transform (esp4) or its ciphers.
 */
import { execFile } from 'node:child_process';

const UNSHARE = '/usr/bin/unshare';
const IP = '/usr/sbin/ip';

let cached: Promise<string | undefined> | undefined;

/** undefined when ESP transport works here; else why not (the kernel's own words). */
export function espUnsupported(): Promise<string | undefined> {
  cached ??= new Promise((resolve) => {
    // Documentation addresses (TEST-NET-1) in a namespace that dies with the process: nothing is left behind.
    const args = [
      '--net', IP, 'xfrm', 'state', 'add', 'src', '192.0.2.1', 'dst', '192.0.2.2', 'proto', 'esp', 'spi', '0x1', 'mode', 'transport',
      'enc', 'cbc(aes)', `0x${'00'.repeat(16)}`, 'auth-trunc', 'hmac(sha256)', `0x${'00'.repeat(32)}`, '128',
    ];
    execFile(UNSHARE, args, { timeout: 10_000 }, (err, _out, stderr) => {
      resolve(err ? (stderr.trim() || err.message).replace(/^Error: /, '') : undefined);
    });
  });
  return cached;
}
