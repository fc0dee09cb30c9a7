import { BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';
import { EventStore } from '@lib/event-store/event-store.port';
import { Metrics } from '@lib/platform/metrics';
import { PINO } from '@lib/platform/platform.module';
import { InMemoryViewStore } from './in-memory.view-store';
import { namespaceOf, Projection } from './projection';
import { applyBatch, ProjectionRunner } from './projection.runner';
import { ViewStore } from './view-store.port';

export const PROJECTIONS = Symbol('PROJECTIONS');

/** Runs the projections in this process: catch-up at start, then live from the store's subscription. */
@Injectable()
export class ProjectorService implements BeforeApplicationShutdown {
  private readonly runner: ProjectionRunner;

  constructor(
    private readonly store: EventStore,
    private readonly views: ViewStore,
    @Inject(PROJECTIONS) private readonly projections: Projection[],
    metrics: Metrics,
    @Inject(PINO) private readonly logger: Logger,
  ) {
    this.runner = new ProjectionRunner(store, views, projections, {
      onBatch: (name, _n, position) => metrics.projectionPosition.set({ projection: name }, position),
      onError: (error) => this.logger.error({ err: error }, 'projection batch failed; retrying from the checkpoint'),
    });
  }

  /** Resolves when every view caught up with the store's head as it was at start. */
  async start(): Promise<void> {
    const started = Date.now();
    await this.runner.start();
    this.logger.info({ position: this.runner.checkpoint, ms: Date.now() - started }, 'views caught up with the event store');
  }

  get checkpoint(): number {
    return this.runner.checkpoint;
  }

  waitFor(position: number, timeoutMs: number): Promise<boolean> {
    return this.runner.waitFor(position, timeoutMs);
  }

  /** Content hash of every live projection and the position it covers, taken between two batches. */
  liveHashes(): Promise<{ position: number; hashes: Record<string, string> }> {
    return this.runner.paused(async (position) => {
      const hashes: Record<string, string> = {};
      for (const p of this.projections) hashes[p.name] = await this.views.contentHash(namespaceOf(p));
      return { position, hashes };
    });
  }

  /** Replays the log from position 0 up to `upTo` into fresh, separate views and hashes them. */
  async replayHashes(upTo: number): Promise<{ hashes: Record<string, string>; events: number; ms: number }> {
    const fresh = new InMemoryViewStore();
    const started = Date.now();
    let after = 0;
    let events = 0;
    while (after < upTo) {
      const batch = (await this.store.readAll({ after, maxCount: 5000 })).filter((e) => e.position <= upTo);
      if (batch.length === 0) break;
      for (const p of this.projections) await applyBatch(p, batch, fresh);
      events += batch.length;
      after = batch[batch.length - 1].position;
    }
    const hashes: Record<string, string> = {};
    for (const p of this.projections) hashes[p.name] = await fresh.contentHash(namespaceOf(p));
    return { hashes, events, ms: Date.now() - started };
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.runner.stop();
  }
}
