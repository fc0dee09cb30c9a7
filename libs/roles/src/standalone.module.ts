import { DynamicModule, Module } from '@nestjs/common';
import { Logger } from 'pino';
import { AppConfig } from '@lib/platform/config';
import { Clock } from '@lib/platform/clock';
import { ApiRoleModule } from './api.module';
import { InfrastructureModule } from './infrastructure.module';
import { IngestorRoleModule } from './ingestor.module';
import { ProjectorRoleModule } from './projector.module';
import { TrackerRoleModule } from './tracker.module';

/** All four roles in one process: what `npm start` runs on the embedded default. */
@Module({})
export class StandaloneModule {
  static forRoot(config: AppConfig, logger: Logger, clock?: Clock): DynamicModule {
    return {
      module: StandaloneModule,
      imports: [InfrastructureModule.forRoot(config, logger, clock), ProjectorRoleModule, IngestorRoleModule, TrackerRoleModule, ApiRoleModule],
    };
  }
}
