import 'reflect-metadata';
import { InfrastructureModule } from '@lib/roles/infrastructure.module';
import { ProjectorRoleModule } from '@lib/roles/projector.module';
import { needs, runRole } from '@lib/roles/run';

void runRole({
  role: 'projector',
  openApi: false,
  cannotRun: (config) => needs(config, { redis: true }),
  module: (config, logger) => ({ module: class ProjectorApp {}, imports: [InfrastructureModule.forRoot(config, logger), ProjectorRoleModule.inBackground()] }),
});
