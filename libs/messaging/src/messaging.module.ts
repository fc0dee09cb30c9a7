import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { AppConfig, ConfigError } from '@lib/platform/config';
import { APP_CONFIG } from '@lib/platform/tokens';
import { InProcessTransport } from './in-process.transport';
import { Transport } from './transport.port';

/** Chooses the transport from configuration: the in-process queue unless KAFKA_BROKERS is set. */
export function createTransport(config: AppConfig): Transport {
  if (config.kafkaBrokers) {
    throw new ConfigError('KAFKA_BROKERS is set, but this build has no Kafka transport yet; unset it to use the in-process queue');
  }
  return new InProcessTransport({ deadLetterFile: join(config.dataDir, 'dead-letters.jsonl') });
}

@Global()
@Module({
  providers: [{ provide: Transport, useFactory: createTransport, inject: [APP_CONFIG] }],
  exports: [Transport],
})
export class MessagingModule implements OnApplicationShutdown {
  constructor(@Inject(Transport) private readonly transport: Transport) {}

  async onApplicationShutdown(): Promise<void> {
    await this.transport.close();
  }
}
