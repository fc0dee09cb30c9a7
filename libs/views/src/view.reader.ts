import { Injectable, Optional } from '@nestjs/common';
import { EventStore } from '@lib/event-store/event-store.port';
import { namespaceOf, Projection } from './projection';
import { ProjectorService } from './projector.service';
import { ViewStore, ZEntry, ZRangeOptions } from './view-store.port';

/** Reads a projection's keys under its versioned namespace, and waits for the views to reach a position. */
@Injectable()
export class ViewReader {
  constructor(
    private readonly views: ViewStore,
    private readonly store: EventStore,
    @Optional() private readonly projector?: ProjectorService,
  ) {}

  get<T>(projection: Projection, key: string): Promise<T | null> {
    return this.views.get<T>(namespaceOf(projection) + key);
  }

  getMany<T>(projection: Projection, keys: string[]): Promise<(T | null)[]> {
    const ns = namespaceOf(projection);
    return this.views.getMany<T>(keys.map((k) => ns + k));
  }

  zrange(projection: Projection, key: string, options: ZRangeOptions): Promise<ZEntry[]> {
    return this.views.zrange(namespaceOf(projection) + key, options);
  }

  zcard(projection: Projection, key: string): Promise<number> {
    return this.views.zcard(namespaceOf(projection) + key);
  }

  /**
   * Read-your-writes for operator commands: answer only once the views include what was just appended.
   * In one process the projector says so; across processes the stored checkpoints are polled.
   */
  async waitFor(position: number, timeoutMs = 5000): Promise<void> {
    if (position <= 0) return;
    if (this.projector) {
      await this.projector.waitFor(position, timeoutMs);
      return;
    }
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if ((await this.views.checkpoint('directory')) >= position) return;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The position the views have reached. */
  async position(): Promise<number> {
    return this.projector ? this.projector.checkpoint : this.views.checkpoint('stats');
  }

  /** How far the views lag the store: the dashboard's `freshness`. */
  async freshness(now: Date): Promise<{ position: number; headPosition: number; lagMs: number }> {
    const position = await this.position();
    const headPosition = await this.store.headPosition();
    if (position >= headPosition) return { position, headPosition, lagMs: 0 };
    const [next] = await this.store.readAll({ after: position, maxCount: 1 });
    return { position, headPosition, lagMs: next ? Math.max(0, now.getTime() - Date.parse(next.recordedAt)) : 0 };
  }
}
