import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { AppConfig, ConfigError } from '@lib/platform/config';
import { Metrics } from '@lib/platform/metrics';
import { APP_CONFIG } from '@lib/platform/tokens';
import { InstrumentedEventStore } from './instrumented.event-store';
import { EventStore } from './event-store.port';
import { EventStoreDbEventStore } from './eventstoredb.event-store';
import { SqliteEventStore } from './sqlite.event-store';
import { StreamCache } from './unit-of-work';
import { Upcasters } from './upcasting';

/**
 * Chooses the event store adapter from configuration: EventStoreDB / KurrentDB when
 * EVENTSTORE_CONNECTION_STRING is set, else SQLite in DATA_DIR. Both upcast old event shapes on read.
 */
export function createEventStore(config: AppConfig, upcasters: Upcasters = new Upcasters()): EventStore {
  if (config.eventStoreConnectionString) {
    try {
      return new EventStoreDbEventStore({ connectionString: config.eventStoreConnectionString, upcasters });
    } catch (e) {
      // The client parses the connection string up front; a bad one must stop start-up with a sentence.
      throw new ConfigError(`EVENTSTORE_CONNECTION_STRING is not a valid connection string: ${(e as Error).message}`);
    }
  }
  return new SqliteEventStore({ file: join(config.dataDir, 'events.sqlite'), synchronous: config.sqliteSynchronous, upcasters });
}

@Global()
@Module({
  providers: [
    // Capabilities register upcasters for their old event shapes here (see upcasting.ts).
    { provide: Upcasters, useValue: new Upcasters() },
    {
      provide: EventStore,
      useFactory: (config: AppConfig, upcasters: Upcasters, metrics: Metrics) => new InstrumentedEventStore(createEventStore(config, upcasters), metrics),
      inject: [APP_CONFIG, Upcasters, Metrics],
    },
    { provide: StreamCache, useFactory: (store: EventStore) => new StreamCache(store), inject: [EventStore] },
  ],
  exports: [EventStore, StreamCache, Upcasters],
})
export class EventStoreModule implements OnApplicationShutdown {
  constructor(@Inject(EventStore) private readonly store: EventStore) {}

  /** Last of all shutdown steps: the HTTP server and the projector have stopped using the store by then. */
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
