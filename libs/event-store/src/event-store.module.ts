import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { AppConfig, ConfigError } from '@lib/platform/config';
import { APP_CONFIG } from '@lib/platform/tokens';
import { EventStore } from './event-store.port';
import { SqliteEventStore } from './sqlite.event-store';
import { StreamCache } from './unit-of-work';

/** Chooses the event store adapter from configuration: SQLite in DATA_DIR unless EVENTSTORE_CONNECTION_STRING is set. */
export function createEventStore(config: AppConfig): EventStore {
  if (config.eventStoreConnectionString) {
    throw new ConfigError('EVENTSTORE_CONNECTION_STRING is set, but this build has no EventStoreDB adapter yet; unset it to use the embedded SQLite store');
  }
  return new SqliteEventStore({ file: join(config.dataDir, 'events.sqlite'), synchronous: config.sqliteSynchronous });
}

@Global()
@Module({
  providers: [
    { provide: EventStore, useFactory: createEventStore, inject: [APP_CONFIG] },
    { provide: StreamCache, useFactory: (store: EventStore) => new StreamCache(store), inject: [EventStore] },
  ],
  exports: [EventStore, StreamCache],
})
export class EventStoreModule implements OnApplicationShutdown {
  constructor(@Inject(EventStore) private readonly store: EventStore) {}

  /** Last of all shutdown steps: the HTTP server and the projector have stopped using the store by then. */
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
