import { DynamicModule, Global, Module } from '@nestjs/common';
import { Logger } from 'pino';
import { AdminGuard } from './admin.guard';
import { Clock, SystemClock } from './clock';
import { AppConfig } from './config';
import { Metrics } from './metrics';
import { APP_CONFIG } from './tokens';

export const PINO = Symbol('PINO');

@Global()
@Module({})
export class PlatformModule {
  static forRoot(config: AppConfig, logger: Logger, clock: Clock = new SystemClock()): DynamicModule {
    return {
      module: PlatformModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: PINO, useValue: logger },
        { provide: Clock, useValue: clock },
        Metrics,
        AdminGuard,
      ],
      exports: [APP_CONFIG, PINO, Clock, Metrics, AdminGuard],
    };
  }
}
