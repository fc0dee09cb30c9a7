import 'reflect-metadata';
import { ApiRoleModule } from '@lib/roles/api.module';
import { InfrastructureModule } from '@lib/roles/infrastructure.module';
import { needs, runRole } from '@lib/roles/run';

void runRole({
  role: 'api',
  openApi: true,
  cannotRun: (config) => needs(config, { redis: true }),
  module: (config, logger) => ({ module: class ApiApp {}, imports: [InfrastructureModule.forRoot(config, logger), ApiRoleModule] }),
});
