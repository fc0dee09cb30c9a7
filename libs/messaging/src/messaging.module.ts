import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { join } from 'node:path';
import { Logger } from 'pino';
import { AppConfig } from '@lib/platform/config';
import { Metrics } from '@lib/platform/metrics';
import { PINO } from '@lib/platform/platform.module';
import { APP_CONFIG } from '@lib/platform/tokens';
import { InProcessTransport } from './in-process.transport';
import { loadKafkaSettings } from './kafka.config';
import { KafkaTransport } from './kafka.transport';
import { Transport } from './transport.port';

/** Chooses the transport from configuration: Kafka when KAFKA_BROKERS is set, else the in-process queue. */
export function createTransport(config: AppConfig, metrics: Metrics, logger: Logger): Transport {
  if (config.kafkaBrokers) return new KafkaTransport(loadKafkaSettings(config.kafkaBrokers), metrics, logger.child({ component: 'kafka' }));
  return new InProcessTransport({ deadLetterFile: join(config.dataDir, 'dead-letters.jsonl') });
}

@Global()
@Module({
  providers: [{ provide: Transport, useFactory: createTransport, inject: [APP_CONFIG, Metrics, PINO] }],
  exports: [Transport],
})
export class MessagingModule implements OnApplicationShutdown {
  constructor(@Inject(Transport) private readonly transport: Transport) {}

  async onApplicationShutdown(): Promise<void> {
    await this.transport.close();
  }
}
