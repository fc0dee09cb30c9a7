import { Metrics } from '@lib/platform/metrics';
import {
  AppendRequest,
  AppendResult,
  EventStore,
  ReadAllOptions,
  ReadStreamOptions,
  RecordedEvent,
  StreamRead,
  SubscribeOptions,
  Subscription,
} from './event-store.port';

/** Counts what every adapter appends (events_appended_total by type), whoever appends: operators or ingestors. */
export class InstrumentedEventStore extends EventStore {
  constructor(private readonly inner: EventStore, private readonly metrics: Metrics) {
    super();
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    return (await this.appendBatch([request]))[0];
  }

  async appendBatch(requests: AppendRequest[]): Promise<AppendResult[]> {
    const results = await this.inner.appendBatch(requests);
    const counts = new Map<string, number>();
    results.forEach((result, i) => {
      // A repeat wrote nothing: counting it would make the metric disagree with the store.
      if (!result.duplicate) for (const e of requests[i].events) counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
    });
    for (const [type, n] of counts) this.metrics.eventsAppended.inc({ type }, n);
    return results;
  }

  readStream<D = any>(streamId: string, options?: ReadStreamOptions): Promise<RecordedEvent<D>[]> {
    return this.inner.readStream<D>(streamId, options);
  }

  override readStreams<D = any>(reads: StreamRead[]): Promise<Map<string, RecordedEvent<D>[]>> {
    return this.inner.readStreams<D>(reads);
  }

  readAll(options: ReadAllOptions): Promise<RecordedEvent[]> {
    return this.inner.readAll(options);
  }

  headPosition(): Promise<number> {
    return this.inner.headPosition();
  }

  subscribeToAll(options: SubscribeOptions, handler: (events: RecordedEvent[]) => Promise<void>): Subscription {
    return this.inner.subscribeToAll(options, handler);
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
