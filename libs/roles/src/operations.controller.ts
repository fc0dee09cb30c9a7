import { Controller, Get, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiExcludeEndpoint, ApiOperation, ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { EventStore } from '@lib/event-store/event-store.port';
import { Transport } from '@lib/messaging/transport.port';
import { AdminGuard } from '@lib/platform/admin.guard';
import { Metrics } from '@lib/platform/metrics';
import { Gauge } from 'prom-client';
import { ViewsAdmin } from '@lib/views/views.admin';
import { ViewStore } from '@lib/views/view-store.port';
import { ViewReader } from '@lib/views/view.reader';

@ApiTags('operations')
@Controller()
export class OperationsController {
  constructor(
    private readonly store: EventStore,
    private readonly transport: Transport,
    private readonly views: ViewStore,
    private readonly reader: ViewReader,
    private readonly metrics: Metrics,
  ) {}

  @Get('health')
  @ApiOperation({ summary: 'The process is alive' })
  health() {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Every configured backend answers; 503 names the ones that do not' })
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const checks = await Promise.all(
      (
        [
          ['eventStore', () => this.store.ping()],
          ['transport', () => this.transport.ping()],
          ['viewStore', () => this.views.ping()],
        ] as const
      ).map(async ([name, ping]) => {
        try {
          await ping();
          return { name, ok: true as const };
        } catch (e) {
          return { name, ok: false as const, message: (e as Error).message };
        }
      }),
    );
    const failed = checks.filter((c) => !c.ok);
    if (failed.length > 0) {
      reply.status(503);
      return { error: 'unavailable', message: 'a backend does not answer', details: failed.map((c) => ({ field: c.name, message: c.message! })) };
    }
    return { status: 'ready', checks: Object.fromEntries(checks.map((c) => [c.name, 'ok'])) };
  }

  @Get('metrics')
  @ApiExcludeEndpoint()
  async metricsText(@Res() reply: FastifyReply): Promise<void> {
    try {
      if (!this.reader.knowsProjections) throw new Error('no projections in this role');
      const freshness = await this.reader.freshness(new Date());
      this.metrics.projectionLag.set(freshness.headPosition - freshness.position);
      this.lagSeconds().set(freshness.lagMs / 1000);
    } catch {
      // Views unreachable: the other metrics are still worth scraping (and /ready says why).
    }
    void reply.header('content-type', this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }

  private lagSeconds(): Gauge {
    const name = 'projection_lag_seconds';
    return (this.metrics.registry.getSingleMetric(name) as Gauge) ??
      new Gauge({ name, help: 'Age of the oldest event in the store not yet applied to every view (0 when caught up)', registers: [this.metrics.registry] });
  }
}

@ApiTags('operations')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/admin/views')
export class ViewsAdminController {
  constructor(private readonly admin: ViewsAdmin) {}

  @Get()
  @ApiOperation({ summary: 'Each projection: the namespace serving reads and its checkpoint, a rebuild in progress, who writes it' })
  status() {
    return this.admin.status();
  }

  @Post('verify')
  @HttpCode(200)
  @ApiOperation({ summary: 'Replays the log from position 0 into fresh views and compares content hashes with the live views' })
  verify() {
    return this.admin.verify();
  }

  @Post(':projection/rebuild')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Rebuilds a projection from position 0 into a new namespace while the old one serves, then swaps it in and deletes the old keys',
    description: 'Answers at once with the rebuild\'s progress; GET /api/admin/views follows it. 409 when a rebuild of it runs already.',
  })
  rebuild(@Param('projection') projection: string) {
    return this.admin.startRebuild(projection);
  }
}
