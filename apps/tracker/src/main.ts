import 'reflect-metadata';
import { InfrastructureModule } from '@lib/roles/infrastructure.module';
import { TrackerRoleModule } from '@lib/roles/tracker.module';
import { needs, runRole } from '@lib/roles/run';

void runRole({
  role: 'tracker',
  openApi: false,
  cannotRun: (config) => needs(config, { kafka: true, redis: true }),
  module: (config, logger) => ({ module: class TrackerApp {}, imports: [InfrastructureModule.forRoot(config, logger), TrackerRoleModule] }),
});
