import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { Logger } from 'pino';
import { Counter, Gauge } from 'prom-client';
import { EventStore } from '@lib/event-store/event-store.port';
import { Metrics } from '@lib/platform/metrics';
import { PINO } from '@lib/platform/platform.module';
import { leaseKeyOf, namespaceOf, Projection, projectionIdOf } from './projection';
import { ProjectionRunner, ProjectionTarget } from './projection.runner';
import { ViewsSettings } from './views.config';
import { PROJECTIONS, VIEWS_SETTINGS } from './views.tokens';
import { ViewStore, WriteGuard } from './view-store.port';

export { PROJECTIONS } from './views.tokens';

/** In one process (embedded views) nobody competes for the lease: it is taken for good. */
const FOREVER_MS = 2 ** 31 - 1;

/**
 * Runs the projections in this process: catch-up at start, then live from the store's subscription.
 *
 * With shared views (Redis) several projectors may run: each projection has a lease, and only its holder
 * writes it (commit.lua checks the fencing token inside the same atomic write). Every `leaseMs / 3` the
 * service renews what it holds and takes what is free, so a standby takes over within about `leaseMs`
 * after the leader died (at once when the leader shut down and released it). A projection with no active
 * namespace yet (its version was never built) is first built into a namespace registered as `building` and
 * swapped in once it caught up with the store, so readers never see it half-built.
 */
@Injectable()
export class ProjectorService implements BeforeApplicationShutdown {
  private readonly holder = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
  private readonly tokens = new Map<string, string>();
  private runner: ProjectionRunner | null = null;
  private caughtUp: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private ticks: Promise<void> = Promise.resolve();
  private stopping = false;
  private readonly leaseMs: number;
  private readonly leader: Gauge<'projection'>;
  private readonly batches: Counter<'projection'>;
  private lastTickError = 0;

  constructor(
    private readonly store: EventStore,
    private readonly views: ViewStore,
    @Inject(PROJECTIONS) private readonly projections: Projection[],
    @Inject(VIEWS_SETTINGS) private readonly settings: ViewsSettings,
    private readonly metrics: Metrics,
    @Inject(PINO) private readonly logger: Logger,
  ) {
    this.leaseMs = views.shared ? settings.leaseMs : FOREVER_MS;
    this.leader = gauge(metrics, 'projection_leader', 'This process holds the projection\'s lease and writes it (1) or stands by (0)');
    this.batches = counter(metrics, 'projection_batches_total', 'Batches this process applied to a projection');
    for (const p of projections) this.leader.set({ projection: p.name }, 0);
  }

  /**
   * Takes the leases that are free and resolves once the views caught up with the store's head as it was
   * at start: written by this process when it leads every projection, else by whoever leads them (a
   * leader that died is replaced by this process within about `leaseMs`). With `waitForViews` false (the
   * projector app, which serves no reads) it resolves at once and keeps working in the background.
   */
  async start(waitForViews = true): Promise<void> {
    const started = Date.now();
    await this.tick();
    if (this.views.shared) this.timer = setInterval(() => this.scheduleTick(), Math.max(100, Math.floor(this.settings.leaseMs / 3)));
    if (!this.leadsAll()) {
      this.logger.info({ leading: [...this.tokens.keys()] }, 'projector standing by for the projections another projector leads');
      if (!waitForViews) return;
      await this.untilViewsCoverHead();
    } else {
      if (!waitForViews) return;
      await this.caughtUp;
    }
    this.logger.info({ position: this.checkpoint, ms: Date.now() - started }, 'views caught up with the event store');
  }

  /** Polls the active namespaces' checkpoints until they cover the head at start; gives up when the views do not answer. */
  private async untilViewsCoverHead(): Promise<void> {
    let head: number;
    try {
      head = await this.store.headPosition();
    } catch {
      return;
    }
    for (;;) {
      if (this.leadsAll()) return this.caughtUp;
      let covered: boolean;
      try {
        const checkpoints = await Promise.all(
          this.projections.map(async (p) => {
            const { active } = await this.views.registry(projectionIdOf(p));
            return active ? this.views.checkpoint(active) : -1;
          }),
        );
        covered = checkpoints.every((c) => c >= head);
      } catch (e) {
        this.logTickError(e as Error);
        return;
      }
      if (covered) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** True when this process writes every projection (then its position is the views' position). */
  leadsAll(): boolean {
    return this.runner !== null && this.tokens.size === this.projections.length;
  }

  leading(): string[] {
    return [...this.tokens.keys()];
  }

  get checkpoint(): number {
    return this.runner?.checkpoint ?? 0;
  }

  waitFor(position: number, timeoutMs: number): Promise<boolean> {
    return this.runner ? this.runner.waitFor(position, timeoutMs) : Promise.resolve(false);
  }

  /** Runs `fn` between two batches of the local runner (null when this process writes nothing). */
  paused<T>(fn: (position: number) => Promise<T>): Promise<T> | null {
    return this.leadsAll() ? this.runner!.paused(fn) : null;
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticks;
    await this.runner?.stop();
    this.runner = null;
    // Released, a standby takes over at its next tick instead of waiting for the lease to expire.
    for (const p of this.projections) {
      const token = this.tokens.get(p.name);
      if (token) await this.views.releaseLease(leaseKeyOf(p), token).catch(() => undefined);
    }
    this.tokens.clear();
  }

  private scheduleTick(): void {
    if (this.stopping) return;
    this.ticks = this.ticks.then(() => this.tick()).catch((e) => this.logTickError(e as Error));
  }

  /** Renews the leases held, takes the free ones, and restarts the runner when the set changed. */
  private async tick(): Promise<void> {
    if (this.stopping) return;
    let changed = false;
    for (const p of this.projections) {
      const key = leaseKeyOf(p);
      const token = this.tokens.get(p.name);
      if (token) {
        // Unknown (Redis down) counts as still held: the fencing check in every commit decides anyway.
        const held = await this.views.renewLease(key, token, this.leaseMs).catch((e) => (this.logTickError(e as Error), true));
        if (!held) {
          this.tokens.delete(p.name);
          changed = true;
          this.logger.warn({ projection: p.name }, 'projector lost the lease of a projection; standing by');
        }
      } else {
        const acquired = await this.views.acquireLease(key, this.holder, this.leaseMs).catch((e) => (this.logTickError(e as Error), null));
        if (acquired) {
          this.tokens.set(p.name, acquired);
          changed = true;
          this.logger.info({ projection: p.name, token: acquired }, 'projector took the lease of a projection');
        }
      }
    }
    if (changed || this.forceRestart || (this.runner === null && this.tokens.size > 0)) await this.restartRunner();
    else if (this.runner && this.reachedHead && this.runner.targets.some((t) => t.role === 'building')) await this.activateBuilt(this.runner);
  }

  private onLeaseLost(p: Projection): void {
    if (!this.tokens.delete(p.name)) return;
    this.logger.warn({ projection: p.name }, 'a commit was refused: another projector holds the lease now');
    // Not from inside the batch handler: restarting waits for the handler to finish.
    setImmediate(() => this.scheduleTick());
    // The next tick restarts the runner without the lost projection (the set is checked there).
    this.forceRestart = true;
  }

  private forceRestart = false;
  /** The current runner caught up with the head it saw at start: a first build may be swapped in. */
  private reachedHead = false;

  private async restartRunner(): Promise<void> {
    this.forceRestart = false;
    this.reachedHead = false;
    const old = this.runner;
    this.runner = null;
    await old?.stop();
    for (const p of this.projections) this.leader.set({ projection: p.name }, this.tokens.has(p.name) ? 1 : 0);
    const led = this.projections.filter((p) => this.tokens.has(p.name));
    if (led.length === 0) {
      this.caughtUp = Promise.resolve();
      return;
    }
    try {
      const targets = await Promise.all(led.map((p) => this.resolveTarget(p)));
      const runner = new ProjectionRunner(
        this.store,
        this.views,
        targets,
        {
          onBatch: (name, _n, position) => {
            this.metrics.projectionPosition.set({ projection: name }, position);
            this.batches.inc({ projection: name });
          },
          onError: (error) => this.logger.error({ err: error }, 'projection batch failed; retrying from the checkpoint'),
          onRetired: (target) => this.retarget(target),
          onLeaseLost: (p) => this.onLeaseLost(p),
        },
        this.settings.batchSize,
      );
      this.runner = runner;
      const { from, head } = await runner.begin();
      if (from > head) {
        // Views ahead of the log: REDIS_URL / REDIS_KEY_PREFIX point at the views of another event store.
        this.logger.error({ checkpoint: from, head }, 'the views are ahead of the event store: they were built from another store; check REDIS_KEY_PREFIX');
      }
      this.logger.info({ projections: led.map((p) => p.name), from, head }, 'projector writing');
      this.caughtUp = runner
        .waitFor(head, Number.POSITIVE_INFINITY)
        .then(async (reached) => {
          if (!reached) return;
          this.reachedHead = true;
          await this.activateBuilt(runner);
        })
        // Not swapped in now (Redis down, lease lost): the next tick tries again.
        .catch((e) => this.logTickError(e as Error));
    } catch (e) {
      // Redis or the store down: drop the runner; the next tick starts it again from the checkpoints.
      this.logTickError(e as Error);
      await this.runner?.stop();
      this.runner = null;
      this.caughtUp = Promise.resolve();
    }
  }

  /** The namespace a projection is written into: the active one, or its first build while it has none. */
  private async resolveTarget(p: Projection): Promise<ProjectionTarget> {
    const id = projectionIdOf(p);
    let reg = await this.views.registry(id);
    if (!reg.active && !reg.building) {
      await this.views.registerBuild(id, namespaceOf(p, 0));
      reg = await this.views.registry(id);
    }
    const role = reg.active ? 'active' : 'building';
    const namespace = (reg.active ?? reg.building)!;
    return { projection: p, namespace, role, guard: this.guard(p, namespace, role), checkpoint: null };
  }

  /** A rebuild swapped the namespace out: write into the new active one, from its checkpoint. */
  private async retarget(target: ProjectionTarget): Promise<void> {
    const fresh = await this.resolveTarget(target.projection);
    this.logger.info({ projection: target.projection.name, from: target.namespace, to: fresh.namespace }, 'projector follows a swapped-in namespace');
    Object.assign(target, fresh);
  }

  /** Once a first build caught up, it becomes the namespace reads are served from. */
  private async activateBuilt(runner: ProjectionRunner): Promise<void> {
    await runner.paused(async () => {
      for (const target of runner.targets) {
        if (target.role !== 'building' || !target.guard) continue;
        const result = await this.views.swap(projectionIdOf(target.projection), target.guard);
        if (!result.swapped) continue;
        target.role = 'active';
        target.guard = this.guard(target.projection, target.namespace, 'active');
        this.logger.info({ projection: target.projection.name, namespace: target.namespace }, 'first build of a projection caught up and serves reads');
      }
    });
  }

  private guard(p: Projection, namespace: string, role: 'active' | 'building'): WriteGuard {
    return {
      lease: { key: leaseKeyOf(p), token: this.tokens.get(p.name) ?? '' },
      registry: { projection: projectionIdOf(p), role, namespace },
    };
  }

  private logTickError(e: Error): void {
    // Once per 5 s at most: a Redis outage must not flood the log.
    if (Date.now() - this.lastTickError < 5000) return;
    this.lastTickError = Date.now();
    this.logger.error({ err: e }, 'projector cannot reach the view store or the event store; retrying');
  }
}

function gauge(metrics: Metrics, name: string, help: string): Gauge<'projection'> {
  return (metrics.registry.getSingleMetric(name) as Gauge<'projection'>) ?? new Gauge({ name, help, labelNames: ['projection'], registers: [metrics.registry] });
}

function counter(metrics: Metrics, name: string, help: string): Counter<'projection'> {
  return (metrics.registry.getSingleMetric(name) as Counter<'projection'>) ?? new Counter({ name, help, labelNames: ['projection'], registers: [metrics.registry] });
}
