// What a build streams: dockerd's classic JSON messages (`{"stream":"Step 1/3 : …"}`), or,
// when the berth CLI asks for them, structured step events it renders BuildKit-style:
// `{"berthBuild":{"type":"step"|"log"|"done"|"error", "vertex":N, …}}`.

export type BuildEvent =
  | { type: 'step'; vertex: number; name: string }
  | { type: 'log'; vertex: number; data: string }
  | { type: 'done'; vertex: number; cached: boolean; ms: number }
  | { type: 'error'; vertex: number; message: string; ms: number }
  | { type: 'warning'; message: string };

export class BuildOutput {
  private nextVertex = 1;

  constructor(
    private readonly send: (msg: object) => void,
    /** berth events instead of the classic text */
    readonly structured: boolean,
    readonly quiet: boolean,
  ) {}

  /** Classic text (nothing in quiet or structured mode). */
  text(s: string): void {
    if (this.quiet || this.structured) return;
    this.send({ stream: s });
  }

  event(e: BuildEvent): void {
    if (this.structured) this.send({ berthBuild: e });
  }

  vertex(name: string): number {
    const v = this.nextVertex++;
    this.event({ type: 'step', vertex: v, name });
    return v;
  }

  /** Output of a RUN step. */
  log(vertex: number, data: string): void {
    if (this.structured) this.event({ type: 'log', vertex, data });
    else this.text(data);
  }

  warning(message: string): void {
    if (this.structured) this.event({ type: 'warning', message });
    else this.text(`[Warning] ${message}\n`);
  }

  raw(msg: object): void {
    this.send(msg);
  }
}
