import { Controller, Get, HttpCode, Optional, Post, Res, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiExcludeEndpoint, ApiOperation, ApiTags } from '@nestjs/swagger';
import { FastifyReply } from 'fastify';
import { EventStore } from '@lib/event-store/event-store.port';
import { Transport } from '@lib/messaging/transport.port';
import { AdminGuard } from '@lib/platform/admin.guard';
import { Metrics } from '@lib/platform/metrics';
import { Unavailable } from '@lib/platform/errors';
import { ProjectorService } from '@lib/views/projector.service';
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
    const freshness = await this.reader.freshness(new Date());
    this.metrics.projectionLag.set(freshness.headPosition - freshness.position);
    void reply.header('content-type', this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}

@ApiTags('operations')
@ApiBearerAuth()
@UseGuards(AdminGuard)
@Controller('api/admin/views')
export class ViewsAdminController {
  constructor(@Optional() private readonly projector?: ProjectorService) {}

  @Post('verify')
  @HttpCode(200)
  @ApiOperation({ summary: 'Replays the log from position 0 into fresh views and compares content hashes with the live views' })
  async verify() {
    if (!this.projector) throw new Unavailable('no projector runs in this process');
    const live = await this.projector.liveHashes();
    const replay = await this.projector.replayHashes(live.position);
    const mismatches = Object.keys(live.hashes).filter((name) => live.hashes[name] !== replay.hashes[name]);
    return { position: live.position, events: replay.events, replayMs: replay.ms, live: live.hashes, replay: replay.hashes, identical: mismatches.length === 0, mismatches };
  }
}
