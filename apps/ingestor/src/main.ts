import 'reflect-metadata';
import { InfrastructureModule } from '@lib/roles/infrastructure.module';
import { IngestorRoleModule } from '@lib/roles/ingestor.module';
import { needs, runRole } from '@lib/roles/run';

void runRole({
  role: 'ingestor',
  openApi: false,
  cannotRun: (config) => needs(config, { kafka: true }),
  module: (config, logger) => ({ module: class IngestorApp {}, imports: [InfrastructureModule.forRoot(config, logger), IngestorRoleModule] }),
});
