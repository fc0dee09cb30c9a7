import { DynamicModule, Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { Logger } from 'pino';
import { EventStoreModule } from '@lib/event-store/event-store.module';
import { MessagingModule } from '@lib/messaging/messaging.module';
import { AppConfig } from '@lib/platform/config';
import { Clock } from '@lib/platform/clock';
import { PlatformModule } from '@lib/platform/platform.module';
import { ViewsModule } from '@lib/views/views.module';
import { DirectoryModule } from '@lib/programs/directory.module';
import { OperationsController } from './operations.controller';

/** What every role needs: config, clock, metrics, the three ports with their configured adapters, CQRS. */
@Module({})
export class InfrastructureModule {
  static forRoot(config: AppConfig, logger: Logger, clock?: Clock): DynamicModule {
    return {
      module: InfrastructureModule,
      imports: [PlatformModule.forRoot(config, logger, clock), EventStoreModule, MessagingModule, ViewsModule, DirectoryModule, CqrsModule.forRoot()],
      controllers: [OperationsController],
    };
  }
}
