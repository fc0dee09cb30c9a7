import { Global, Injectable, Module, OnApplicationBootstrap } from '@nestjs/common';
import { PROJECTIONS, ProjectorService } from '@lib/views/projector.service';
import { directoryProjection } from '@lib/programs/directory.projection';
import { statsProjection } from '@lib/dashboard/stats.projection';
import { attributionProjection } from '@lib/attribution/attribution.projection';

/** Every read model the product serves, one projection per query family. */
export const ALL_PROJECTIONS = [directoryProjection, statsProjection, attributionProjection];

@Injectable()
class ProjectorStarter implements OnApplicationBootstrap {
  constructor(private readonly projector: ProjectorService) {}

  /** Nest awaits this before the app listens: no request is served from views that have not caught up. */
  onApplicationBootstrap(): Promise<void> {
    return this.projector.start();
  }
}

@Global()
@Module({
  providers: [{ provide: PROJECTIONS, useValue: ALL_PROJECTIONS }, ProjectorService, ProjectorStarter],
  exports: [ProjectorService],
})
export class ProjectorRoleModule {}
