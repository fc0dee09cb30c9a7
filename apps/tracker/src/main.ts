import 'reflect-metadata';
import { InfrastructureModule } from '@lib/roles/infrastructure.module';
import { ProjectorRoleModule } from '@lib/roles/projector.module';
import { TrackerRoleModule } from '@lib/roles/tracker.module';
import { needs, runRole } from '@lib/roles/run';

void runRole({
  role: 'tracker',
  openApi: false,
  cannotRun: (config) => needs(config, { kafka: true }),
  // With in-memory views (no REDIS_URL) the tracker projects the directory it looks codes and keys up in itself,
  // from the event store it shares with the other roles.
  module: (config, logger) => ({
    module: class TrackerApp {},
    imports: [InfrastructureModule.forRoot(config, logger), TrackerRoleModule, ...(config.redisUrl ? [] : [ProjectorRoleModule])],
  }),
});
