import { EventStore, RecordedEvent, SubscribeOptions, Subscription } from './event-store.port';

/**
 * Reads the log from a position in batches and hands each batch to the handler, one at a time.
 * When caught up it sleeps until `listen` wakes it (a local append or a poll tick). A failing handler
 * is retried with backoff from the same position: nothing is skipped.
 */
export class CatchUpSubscription implements Subscription {
  private stopped = false;
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private readonly done: Promise<void>;
  private readonly unlisten: () => void;

  constructor(
    private readonly store: EventStore,
    private readonly options: SubscribeOptions,
    private readonly handler: (events: RecordedEvent[]) => Promise<void>,
    listen: (wake: () => void) => () => void,
  ) {
    this.unlisten = listen(() => this.wake());
    this.done = this.run();
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = null;
    // An append that lands between an empty read and the wait must not be slept through.
    if (w) w();
    else this.woken = true;
  }

  private async run(): Promise<void> {
    let after = this.options.after;
    let failures = 0;
    while (!this.stopped) {
      try {
        const batch = await this.store.readAll({ after, maxCount: this.options.batchSize ?? 1000, filter: this.options.filter });
        if (batch.length === 0) {
          if (this.woken) {
            this.woken = false;
            continue;
          }
          await new Promise<void>((resolve) => (this.wakeUp = resolve));
          continue;
        }
        await this.handler(batch);
        after = batch[batch.length - 1].position;
        failures = 0;
      } catch (e) {
        failures += 1;
        this.options.onError?.(e as Error, failures);
        await new Promise((r) => setTimeout(r, Math.min(5000, 50 * 2 ** failures)));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unlisten();
    this.wake();
    await this.done;
  }
}
