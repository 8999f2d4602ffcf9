/**
 * Docker's multiplexed stream framing for non-TTY attach/logs/exec:
 * 8-byte header [stream, 0, 0, 0, size (uint32 BE)] then the payload.
 * stream: 0 stdin, 1 stdout, 2 stderr, 3 systemerr.
 */
export function frame(stream: 0 | 1 | 2 | 3, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

/** Incremental demultiplexer: feed chunks, get (stream, payload) callbacks. */
export class Demuxer {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private onFrame: (stream: number, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const size = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + size) break;
      const stream = this.buf[0]!;
      const payload = this.buf.subarray(8, 8 + size);
      this.buf = this.buf.subarray(8 + size);
      this.onFrame(stream, payload);
    }
  }
}
