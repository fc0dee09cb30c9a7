import { Inject, Injectable, Optional } from '@nestjs/common';
import { EventStore } from '@lib/event-store/event-store.port';
import { Projection, projectionIdOf } from './projection';
import { ProjectorService } from './projector.service';
import { ViewsSettings } from './views.config';
import { PROJECTIONS, VIEWS_SETTINGS } from './views.tokens';
import { ViewsNotBuilt, ViewStore, ZEntry, ZRangeOptions, ZScoreRange } from './view-store.port';

/**
 * Reads a projection's keys under its active namespace, and waits for the views to reach a position.
 * Which namespace is active is cached for `namespaceCacheMs` (shared views only): a rebuild keeps the old
 * namespace for `retireGraceMs` after its swap, longer than any reader keeps it cached.
 */
@Injectable()
export class ViewReader {
  private readonly active = new Map<string, { namespace: string; until: number }>();
  private readonly cacheMs: number;

  constructor(
    private readonly views: ViewStore,
    private readonly store: EventStore,
    @Inject(VIEWS_SETTINGS) settings: ViewsSettings,
    @Optional() private readonly projector?: ProjectorService,
    @Optional() @Inject(PROJECTIONS) private readonly projections?: Projection[],
  ) {
    this.cacheMs = views.shared ? settings.namespaceCacheMs : 0;
  }

  /** The namespace reads of the projection are served from; ViewsNotBuilt (503) while its first build runs. */
  async namespace(projection: Projection, fresh = false): Promise<string> {
    const id = projectionIdOf(projection);
    const hit = this.active.get(id);
    if (hit && !fresh && hit.until > Date.now()) return hit.namespace;
    const { active } = await this.views.registry(id);
    if (!active) throw new ViewsNotBuilt(projection.name);
    this.active.set(id, { namespace: active, until: Date.now() + this.cacheMs });
    return active;
  }

  async get<T>(projection: Projection, key: string): Promise<T | null> {
    return this.views.get<T>((await this.namespace(projection)) + key);
  }

  async getMany<T>(projection: Projection, keys: string[]): Promise<(T | null)[]> {
    const ns = await this.namespace(projection);
    return this.views.getMany<T>(keys.map((k) => ns + k));
  }

  async zrange(projection: Projection, key: string, options: ZRangeOptions): Promise<ZEntry[]> {
    return this.views.zrange((await this.namespace(projection)) + key, options);
  }

  async zrangeByRank(projection: Projection, key: string, start: number, stop: number): Promise<ZEntry[]> {
    return this.views.zrangeByRank((await this.namespace(projection)) + key, start, stop);
  }

  async zrangeByScore(projection: Projection, key: string, range: ZScoreRange): Promise<ZEntry[]> {
    return this.views.zrangeByScore((await this.namespace(projection)) + key, range);
  }

  async zrangeByPrefix(projection: Projection, key: string, prefix: string, limit: number): Promise<string[]> {
    return this.views.zrangeByPrefix((await this.namespace(projection)) + key, prefix, limit);
  }

  async zscores(projection: Projection, key: string, members: string[]): Promise<(number | null)[]> {
    return this.views.zscores((await this.namespace(projection)) + key, members);
  }

  async zcard(projection: Projection, key: string): Promise<number> {
    return this.views.zcard((await this.namespace(projection)) + key);
  }

  /** The position the projection's active namespace covers. */
  async checkpoint(projection: Projection, fresh = false): Promise<number> {
    return this.views.checkpoint(await this.namespace(projection, fresh));
  }

  /**
   * Read-your-writes for operator commands: answer only once the views include what was just appended.
   * When this process writes every projection it says so; otherwise the stored checkpoints are polled.
   */
  async waitFor(position: number, timeoutMs = 5000): Promise<void> {
    if (position <= 0) return;
    if (this.projector?.leadsAll()) {
      await this.projector.waitFor(position, timeoutMs);
      return;
    }
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      try {
        if ((await this.checkpoints(true)).every((c) => c >= position)) return;
      } catch {
        // Views unreachable or being built: keep waiting until the timeout, then answer as usual.
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** False in a process that reads views without knowing the projections (the tracker): it has no position. */
  get knowsProjections(): boolean {
    return this.projector !== undefined || (this.projections?.length ?? 0) > 0;
  }

  /** The position every view has reached (the lowest of the projections' checkpoints). */
  async position(): Promise<number> {
    if (this.projector?.leadsAll()) return this.projector.checkpoint;
    const all = await this.checkpoints(false);
    return all.length === 0 ? 0 : Math.min(...all);
  }

  /** How far the views lag the store: the dashboard's `freshness`. */
  async freshness(now: Date, knownPosition?: number): Promise<{ position: number; headPosition: number; lagMs: number }> {
    const [position, headPosition] = await Promise.all([knownPosition ?? this.position(), this.store.headPosition()]);
    if (position >= headPosition) return { position, headPosition, lagMs: 0 };
    const [next] = await this.store.readAll({ after: position, maxCount: 1 });
    return { position, headPosition, lagMs: next ? Math.max(0, now.getTime() - Date.parse(next.recordedAt)) : 0 };
  }

  private checkpoints(fresh: boolean): Promise<number[]> {
    return Promise.all((this.projections ?? []).map((p) => this.checkpoint(p, fresh)));
  }
}
