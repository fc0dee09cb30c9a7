import { AllStreamResolvedEvent, AllStreamSubscription, EventStoreDBClient, eventTypeFilter, excludeSystemEvents, Filter, START, streamNameFilter } from '@eventstore/db-client';
import { AllFilter, RecordedEvent, SubscribeOptions, Subscription } from './event-store.port';

interface Settings {
  translate: (error: unknown) => Error;
  maxBackoffMs: number;
  onStopped: (subscription: EventStoreDbSubscription) => void;
}

/**
 * A catch-up subscription to `$all` on EventStoreDB, filtered on the server, that hands the handler one
 * batch at a time. It remembers the position of the last event the handler finished; when the server
 * drops the subscription (restart, leader change, network) it subscribes again from there, so nothing is
 * skipped and nothing the handler finished is delivered twice. A failing handler gets the same batch
 * again with backoff. A process that restarts passes its stored position as `after`.
 */
export class EventStoreDbSubscription implements Subscription {
  private stopped = false;
  private current: AllStreamSubscription | null = null;
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private readonly stopWaiters = new Set<() => void>();
  private readonly done: Promise<void>;
  private after: number;

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly options: SubscribeOptions,
    private readonly handler: (events: RecordedEvent[]) => Promise<void>,
    /** The port's event, upcast; null for events the port never delivers (system events, filtered out). */
    private readonly decode: (resolved: AllStreamResolvedEvent) => RecordedEvent | null,
    private readonly settings: Settings,
  ) {
    this.after = options.after;
    this.done = this.run();
  }

  async stop(): Promise<void> {
    if (this.stopped) return this.done;
    this.stopped = true;
    this.wake();
    for (const w of [...this.stopWaiters]) w();
    await this.current?.unsubscribe().catch(() => undefined);
    await this.done;
    this.settings.onStopped(this);
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const subscription = this.client.subscribeToAll({
        fromPosition: this.after > 0 ? { commit: BigInt(this.after), prepare: BigInt(this.after) } : START,
        filter: serverFilter(this.options.filter),
      });
      this.current = subscription;
      const before = this.after;
      try {
        await this.pump(subscription);
      } catch (e) {
        if (this.stopped) break;
        // A subscription that delivered something before it dropped starts its backoff afresh.
        failures = this.after > before ? 1 : failures + 1;
        this.options.onError?.(this.settings.translate(e), failures);
        await this.sleep(Math.min(this.settings.maxBackoffMs, 50 * 2 ** failures));
      } finally {
        await subscription.unsubscribe().catch(() => undefined);
      }
    }
  }

  /** Reads what the subscription has buffered, up to a batch, hands it over, and repeats; throws when the subscription ends. */
  private async pump(subscription: AllStreamSubscription): Promise<void> {
    let ended: unknown = null;
    const onReadable = () => this.wake();
    const onError = (e: unknown) => {
      ended = e;
      this.wake();
    };
    const onEnd = () => {
      ended ??= new Error('the server ended the subscription');
      this.wake();
    };
    subscription.on('readable', onReadable);
    subscription.on('error', onError);
    subscription.on('end', onEnd);
    subscription.on('close', onEnd);
    try {
      const size = this.options.batchSize ?? 1000;
      while (!this.stopped) {
        const batch: RecordedEvent[] = [];
        let item: AllStreamResolvedEvent | null;
        while (batch.length < size && (item = subscription.read() as AllStreamResolvedEvent | null) !== null) {
          const event = this.decode(item);
          // After a resubscription the server starts after our position; this guards the handler regardless.
          if (event && event.position > this.after) batch.push(event);
        }
        if (batch.length > 0) {
          await this.deliver(batch);
          continue;
        }
        if (ended) throw ended;
        await this.idle();
      }
    } finally {
      subscription.off('readable', onReadable);
      subscription.off('end', onEnd);
      subscription.off('close', onEnd);
      subscription.off('error', onError);
      // A late error from a subscription we gave up on must not become an uncaught exception.
      subscription.on('error', () => undefined);
      this.woken = false;
    }
  }

  private async deliver(batch: RecordedEvent[]): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        await this.handler(batch);
        this.after = batch[batch.length - 1].position;
        return;
      } catch (e) {
        this.options.onError?.(e as Error, attempt);
        await this.sleep(Math.min(this.settings.maxBackoffMs, 50 * 2 ** attempt));
      }
    }
  }

  private wake(): void {
    const w = this.wakeUp;
    this.wakeUp = null;
    // A wake-up that arrives while a batch is being handled must not be slept through afterwards.
    if (w) w();
    else this.woken = true;
  }

  private idle(): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => (this.wakeUp = resolve));
  }

  /** A backoff that only stop() cuts short (new events do not). */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.stopWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.stopWaiters.add(done);
    });
  }
}

/**
 * The port's filter as EventStoreDB's server-side filter: stream prefixes as a stream-name prefix filter,
 * event types as an exact-match regex on the type, and no filter as "no system events". EventStoreDB filters on
 * one of the two, so when both are given the types are also checked on the client (decode does that).
 */
export function serverFilter(filter?: AllFilter): Filter {
  if (filter?.streamPrefixes && filter.streamPrefixes.length > 0) return streamNameFilter({ prefixes: filter.streamPrefixes });
  if (filter?.eventTypes && filter.eventTypes.length > 0) {
    return eventTypeFilter({ regex: `^(?:${filter.eventTypes.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$` });
  }
  return excludeSystemEvents();
}
