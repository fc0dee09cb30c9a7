import { Global, Module } from '@nestjs/common';
import { AppConfig, ConfigError } from '@lib/platform/config';
import { APP_CONFIG } from '@lib/platform/tokens';
import { InMemoryViewStore } from './in-memory.view-store';
import { ViewStore } from './view-store.port';
import { ViewReader } from './view.reader';

/** Chooses the view store from configuration: in-memory unless REDIS_URL is set. */
export function createViewStore(config: AppConfig): ViewStore {
  if (config.redisUrl) {
    throw new ConfigError('REDIS_URL is set, but this build has no Redis view store yet; unset it to use in-memory views');
  }
  return new InMemoryViewStore();
}

@Global()
@Module({
  providers: [{ provide: ViewStore, useFactory: createViewStore, inject: [APP_CONFIG] }, ViewReader],
  exports: [ViewStore, ViewReader],
})
export class ViewsModule {}
