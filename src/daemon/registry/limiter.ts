/**
 * A counting semaphore: dockerd's --max-concurrent-downloads/uploads bound
 * transfers across every pull or push in flight, not per request.
 */
export class Limiter {
  private running = 0;
  private readonly queue: Array<() => void> = [];

  constructor(readonly limit: number) {}

  /** Runs `fn` when a slot is free; `onWait` tells the caller it queued (docker's "Waiting"). */
  async run<T>(fn: () => Promise<T>, onWait?: () => void): Promise<T> {
    if (this.running >= this.limit) {
      onWait?.();
      await new Promise<void>((r) => this.queue.push(r));
    } else {
      this.running++;
    }
    try {
      return await fn();
    } finally {
      // Hand the slot straight to the next waiter, so a newcomer cannot overtake the queue.
      const next = this.queue.shift();
      if (next) next();
      else this.running--;
    }
  }
}
