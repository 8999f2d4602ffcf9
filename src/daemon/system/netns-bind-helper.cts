/**
 * Run by netns-socket.ts inside a container's network namespace (through
 * nsenter): binds a UDP socket and a TCP server on argv[2]:argv[3] there and
 * hands both to berthd over the IPC channel, then exits. The sockets stay
 * in that namespace, so berthd serves 127.0.0.11 of a container it could not
 * reach from the host's namespace.
 */
import dgram from 'node:dgram';
import net from 'node:net';

const host = process.argv[2]!;
const port = Number(process.argv[3]);

function fail(e: Error): void {
  process.send?.({ error: e.message }, () => process.exit(1));
}

const udp = dgram.createSocket('udp4');
udp.once('error', fail);
udp.bind({ address: host, port, exclusive: true }, () => {
  const tcp = net.createServer();
  tcp.once('error', fail);
  tcp.listen({ host, port: udp.address().port, exclusive: true }, () => {
    // Exit once both are written to the channel: the kernel holds berthd's copies then, and a helper
    // still listening would take queries off the shared sockets.
    process.send!({ kind: 'udp' }, udp, () => {
      process.send!({ kind: 'tcp' }, tcp, () => process.exit(0));
    });
  });
});
