import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { Logger } from 'pino';
import { AppConfig } from '@lib/platform/config';
import { PINO } from '@lib/platform/platform.module';
import { APP_CONFIG } from '@lib/platform/tokens';
import { InMemoryViewStore } from './in-memory.view-store';
import { RedisViewStore } from './redis.view-store';
import { loadViewsSettings, ViewsSettings } from './views.config';
import { VIEWS_SETTINGS } from './views.tokens';
import { ViewStore } from './view-store.port';
import { ViewReader } from './view.reader';

/** Chooses the view store from configuration: Redis when REDIS_URL is set, else in-memory. */
export function createViewStore(settings: ViewsSettings, logger?: Logger): ViewStore {
  if (!settings.redis) return new InMemoryViewStore();
  let last = 0;
  return new RedisViewStore({
    ...settings.redis,
    onConnectionError: (e) => {
      // ioredis reports every failed reconnect: once per 5 s is enough to say Redis is down.
      if (Date.now() - last < 5000) return;
      last = Date.now();
      logger?.error({ err: e }, 'the view store (Redis) does not answer; reconnecting');
    },
  });
}

/** Opens the configured view store. Redis down at boot is no reason not to start: /ready says why meanwhile. */
export async function openViewStore(settings: ViewsSettings, logger?: Logger): Promise<ViewStore> {
  const store = createViewStore(settings, logger);
  if (store instanceof RedisViewStore) {
    await store.connect().catch((e) => logger?.error({ err: e }, 'the view store (Redis) does not answer at start; reconnecting in the background'));
  }
  return store;
}

@Global()
@Module({
  providers: [
    { provide: VIEWS_SETTINGS, useFactory: (config: AppConfig) => loadViewsSettings(config.redisUrl), inject: [APP_CONFIG] },
    { provide: ViewStore, useFactory: openViewStore, inject: [VIEWS_SETTINGS, PINO] },
    ViewReader,
  ],
  exports: [ViewStore, ViewReader, VIEWS_SETTINGS],
})
export class ViewsModule implements OnApplicationShutdown {
  constructor(@Inject(ViewStore) private readonly views: ViewStore) {}

  /** After the projector stopped (beforeApplicationShutdown): nothing writes any more. */
  async onApplicationShutdown(): Promise<void> {
    await this.views.close();
  }
}
