import { EventEmitter } from 'node:events';

/** An event as dockerd's `/events` streams it. */
export interface EngineEvent {
  Type: 'container' | 'image' | 'network' | 'volume' | 'daemon';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  // Legacy fields dockerd still sends for containers.
  status?: string;
  id?: string;
  from?: string;
}

/** In-process event bus with a bounded history, so `--since` can replay. */
export class EventBus {
  private emitter = new EventEmitter();
  private history: EngineEvent[] = [];

  constructor(private keep = 1024) {
    this.emitter.setMaxListeners(0);
  }

  emit(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}): void {
    const nowNs = BigInt(Date.now()) * 1_000_000n + process.hrtime.bigint() % 1_000_000n;
    const ev: EngineEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Number(nowNs / 1_000_000_000n),
      timeNano: Number(nowNs),
    };
    if (type === 'container') {
      ev.status = action;
      ev.id = id;
      if (attributes.image) ev.from = attributes.image;
    }
    this.history.push(ev);
    if (this.history.length > this.keep) this.history.shift();
    this.emitter.emit('event', ev);
  }

  since(seconds: number): EngineEvent[] {
    return this.history.filter((e) => e.timeNano / 1e9 >= seconds);
  }

  subscribe(fn: (e: EngineEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }
}
