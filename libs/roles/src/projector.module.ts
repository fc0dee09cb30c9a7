import { DynamicModule, Global, Inject, Injectable, Module, OnApplicationBootstrap } from '@nestjs/common';
import { ProjectorService } from '@lib/views/projector.service';
import { PROJECTIONS } from '@lib/views/views.tokens';
import { directoryProjection } from '@lib/programs/directory.projection';
import { statsProjection } from '@lib/dashboard/stats.projection';
import { attributionProjection } from '@lib/attribution/attribution.projection';

/** Every read model the product serves, one projection per query family. */
export const ALL_PROJECTIONS = [directoryProjection, statsProjection, attributionProjection];

/** The list of projections, for the roles that run them (projector) or read and administer them (api). */
@Global()
@Module({ providers: [{ provide: PROJECTIONS, useValue: ALL_PROJECTIONS }], exports: [PROJECTIONS] })
export class ProjectionsModule {}

const WAIT_FOR_VIEWS = Symbol('WAIT_FOR_VIEWS');

@Injectable()
class ProjectorStarter implements OnApplicationBootstrap {
  constructor(
    private readonly projector: ProjectorService,
    @Inject(WAIT_FOR_VIEWS) private readonly waitForViews: boolean,
  ) {}

  /**
   * Nest awaits this before the app listens: no request is served from views that have not caught up with
   * the store as it was at start (with Redis: whoever writes them; a standby takes over a dead leader).
   */
  onApplicationBootstrap(): Promise<void> {
    return this.projector.start(this.waitForViews);
  }
}

@Global()
@Module({
  imports: [ProjectionsModule],
  providers: [ProjectorService, ProjectorStarter, { provide: WAIT_FOR_VIEWS, useValue: true }],
  exports: [ProjectorService],
})
export class ProjectorRoleModule {
  /**
   * The projector app on its own serves no reads: it listens (/health, /ready, /metrics) at once, also as a
   * standby and during a long first build, and projects in the background.
   */
  static inBackground(): DynamicModule {
    return {
      module: ProjectorRoleModule,
      global: true,
      imports: [ProjectionsModule],
      providers: [ProjectorService, ProjectorStarter, { provide: WAIT_FOR_VIEWS, useValue: false }],
      exports: [ProjectorService],
    };
  }
}
