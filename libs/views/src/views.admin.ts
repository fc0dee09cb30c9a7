import { hostname } from 'node:os';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { Logger } from 'pino';
import { EventStore } from '@lib/event-store/event-store.port';
import { Conflict, NotFound, Unavailable } from '@lib/platform/errors';
import { PINO } from '@lib/platform/platform.module';
import { InMemoryViewStore } from './in-memory.view-store';
import { leaseKeyOf, namespaceOf, Projection, projectionIdOf } from './projection';
import { applyBatch } from './projection.runner';
import { ProjectorService } from './projector.service';
import { rebuildProjection, RebuildProgress } from './rebuild';
import { ViewsSettings } from './views.config';
import { PROJECTIONS, VIEWS_SETTINGS } from './views.tokens';
import { ViewStore } from './view-store.port';

export interface LiveHashes {
  checkpoints: Record<string, number>;
  hashes: Record<string, string>;
}

/** Operations on the views: their state, verifying them against a replay, rebuilding one in the background. */
@Injectable()
export class ViewsAdmin {
  private readonly rebuilds = new Map<string, RebuildProgress>();

  constructor(
    private readonly store: EventStore,
    private readonly views: ViewStore,
    @Inject(PROJECTIONS) private readonly projections: Projection[],
    @Inject(VIEWS_SETTINGS) private readonly settings: ViewsSettings,
    @Inject(PINO) private readonly logger: Logger,
    @Optional() private readonly projector?: ProjectorService,
  ) {}

  projection(name: string): Projection {
    const p = this.projections.find((x) => x.name === name);
    if (!p) throw new NotFound(`no projection named ${name}; the projections are ${this.projections.map((x) => x.name).join(', ')}`);
    return p;
  }

  /** Each projection: the namespace serving reads and how far it got, a build in progress, who writes it. */
  async status() {
    const head = await this.store.headPosition();
    const projections = [];
    for (const p of this.projections) {
      const reg = await this.views.registry(projectionIdOf(p));
      const activeCheckpoint = reg.active ? await this.views.checkpoint(reg.active) : null;
      projections.push({
        name: p.name,
        version: p.version,
        active: reg.active,
        activeCheckpoint,
        lagEvents: activeCheckpoint === null ? null : Math.max(0, head - activeCheckpoint),
        building: reg.building,
        buildingCheckpoint: reg.building ? await this.views.checkpoint(reg.building) : null,
        writer: await this.views.leaseHolder(leaseKeyOf(p)),
        rebuildHolder: await this.views.leaseHolder(leaseKeyOf(p, 'rebuild')),
        lastRebuildHere: this.rebuilds.get(p.name) ?? null,
      });
    }
    return { headPosition: head, projections };
  }

  /** Starts a rebuild in this process and answers at once; `status()` follows it. */
  async startRebuild(name: string): Promise<RebuildProgress> {
    const projection = this.projection(name);
    const current = this.rebuilds.get(name);
    if (current && !['done', 'failed'].includes(current.phase)) throw new Conflict(`a rebuild of ${name} is already running in this process`);
    let first: ((p: RebuildProgress) => void) | null = null;
    const started = new Promise<RebuildProgress>((resolve) => (first = resolve));
    const run = rebuildProjection({ store: this.store, views: this.views, settings: this.settings, logger: this.logger }, projection, {
      holder: `${hostname()}/${process.pid}/api`,
      onProgress: (p) => {
        this.rebuilds.set(name, p);
        first?.(p);
        first = null;
      },
    });
    // Failures after the start are logged and shown by status(); one before the first report (another
    // rebuild runs, no active views yet) is the answer itself.
    run.catch((e) => this.logger.error({ err: e, projection: name }, 'rebuild failed'));
    return Promise.race([started, run]);
  }

  /** Replays the log from position 0 into fresh, separate views and compares content hashes with the live views. */
  async verify() {
    const live = await this.liveHashes();
    const replay = await this.replayHashes(live.checkpoints);
    const mismatches = Object.keys(live.hashes).filter((name) => live.hashes[name] !== replay.hashes[name]);
    return {
      position: Math.max(0, ...Object.values(live.checkpoints)),
      checkpoints: live.checkpoints,
      events: replay.events,
      replayMs: replay.ms,
      live: live.hashes,
      replay: replay.hashes,
      identical: mismatches.length === 0,
      mismatches,
    };
  }

  /** Content hash of every active namespace and the checkpoint it covers, taken while none of them moves. */
  async liveHashes(): Promise<LiveHashes> {
    const local = this.projector?.paused(() => this.hashNow());
    if (local) return local;
    // Another process writes: hash, then check that no checkpoint moved meanwhile.
    for (let attempt = 0; attempt < 20; attempt++) {
      const before = await this.hashNow();
      const after = await this.checkpointsNow();
      if (Object.keys(after).every((n) => after[n] === before.checkpoints[n])) return before;
      await new Promise((r) => setTimeout(r, 50 * (attempt + 1)));
    }
    throw new Unavailable('the views kept moving while they were hashed; verify again when traffic is lower');
  }

  /** Replays each projection up to its own checkpoint, in one pass over the log. */
  async replayHashes(upTo: Record<string, number>): Promise<{ hashes: Record<string, string>; events: number; ms: number }> {
    const fresh = new InMemoryViewStore();
    const started = Date.now();
    const end = Math.max(0, ...Object.values(upTo));
    let after = 0;
    let events = 0;
    while (after < end) {
      const batch = (await this.store.readAll({ after, maxCount: 5000 })).filter((e) => e.position <= end);
      if (batch.length === 0) break;
      for (const p of this.projections) {
        const own = batch.filter((e) => e.position <= (upTo[p.name] ?? 0));
        if (own.length > 0) await applyBatch(p, own, fresh);
      }
      events += batch.length;
      after = batch[batch.length - 1].position;
    }
    const hashes: Record<string, string> = {};
    for (const p of this.projections) hashes[p.name] = await fresh.contentHash(namespaceOf(p));
    return { hashes, events, ms: Date.now() - started };
  }

  private async hashNow(): Promise<LiveHashes> {
    const checkpoints: Record<string, number> = {};
    const hashes: Record<string, string> = {};
    for (const p of this.projections) {
      const { active } = await this.views.registry(projectionIdOf(p));
      if (!active) throw new Unavailable(`the ${p.name} views are being built; verify once they serve reads`);
      checkpoints[p.name] = await this.views.checkpoint(active);
      hashes[p.name] = await this.views.contentHash(active);
    }
    return { checkpoints, hashes };
  }

  private async checkpointsNow(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const p of this.projections) {
      const { active } = await this.views.registry(projectionIdOf(p));
      out[p.name] = active ? await this.views.checkpoint(active) : -1;
    }
    return out;
  }
}
