import { EventEmitter } from 'node:events';
import { EventStore, RecordedEvent, Subscription } from '@lib/event-store/event-store.port';
import { namespaceOf, Projection, ProjectionContext } from './projection';
import { LeaseLost, NamespaceRetired, ViewChange, ViewStore, WriteGuard } from './view-store.port';

/** Where one projection's batches go: its namespace, the role it is registered under, and the write guard. */
export interface ProjectionTarget {
  readonly projection: Projection;
  namespace: string;
  role: 'active' | 'building';
  guard?: WriteGuard;
  /**
   * The namespace's checkpoint as this runner last committed it; null when unknown (at start, and after a
   * failed commit, whose reply may have been lost after Redis ran it). Only the lease holder writes the
   * namespace, so a known value saves a read per batch.
   */
  checkpoint: number | null;
}

export interface RunnerHooks {
  onBatch?: (projection: string, events: number, position: number) => void;
  onError?: (error: Error) => void;
  /** A commit found the namespace swapped out by a rebuild: point the target at the new active namespace. */
  onRetired?: (target: ProjectionTarget) => Promise<void>;
  /** A commit was refused for the lease: this runner must stop writing the projection. */
  onLeaseLost?: (projection: Projection) => void;
}

/**
 * Feeds events from the store to projections. Each batch's changes and the checkpoint that covers them
 * go to the view store in one commit, so a crash repeats at most one uncommitted batch.
 */
export class ProjectionRunner {
  private subscription: Subscription | null = null;
  private readonly progress = new EventEmitter();
  private position = 0;
  private stopped = false;
  /** Serialises batches with readers that need the views to hold still (hash comparisons, swaps). */
  private lock: Promise<unknown> = Promise.resolve();
  readonly targets: ProjectionTarget[];

  constructor(
    private readonly store: EventStore,
    private readonly views: ViewStore,
    targets: readonly (Projection | ProjectionTarget)[],
    private readonly hooks: RunnerHooks = {},
    private readonly batchSize = 2000,
  ) {
    this.progress.setMaxListeners(0);
    // A bare projection writes its first namespace, unguarded, with the checkpoint named after it (specs, benchmarks).
    this.targets = targets.map((t) => ('projection' in t ? t : { projection: t, namespace: namespaceOf(t), role: 'active' as const, checkpoint: null }));
  }

  get projections(): Projection[] {
    return this.targets.map((t) => t.projection);
  }

  /** Subscribes from the lowest checkpoint; resolves with the store's head at that moment. */
  async begin(): Promise<{ from: number; head: number }> {
    const checkpoints = await Promise.all(this.targets.map((t) => this.views.checkpoint(t.namespace)));
    this.targets.forEach((t, i) => (t.checkpoint = checkpoints[i]));
    const from = Math.min(...checkpoints);
    this.position = from;
    const head = await this.store.headPosition();
    this.subscription = this.store.subscribeToAll({ after: from, batchSize: this.batchSize, onError: this.hooks.onError }, (events) => this.handle(events));
    return { from, head };
  }

  /** Subscribes and resolves once the views caught up with the head at start. */
  async start(): Promise<void> {
    const { head } = await this.begin();
    await this.waitFor(head, Number.POSITIVE_INFINITY);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.progress.emit('stopped');
    await this.subscription?.stop();
    this.subscription = null;
  }

  get checkpoint(): number {
    return this.position;
  }

  /** Resolves true when the views include `position` (read-your-writes); false on timeout or stop. */
  waitFor(position: number, timeoutMs = 5000): Promise<boolean> {
    if (this.position >= position) return Promise.resolve(true);
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onProgress = (p: number) => {
        if (p < position) return;
        cleanup();
        resolve(true);
      };
      const onStopped = () => (cleanup(), resolve(false));
      const timer = Number.isFinite(timeoutMs) ? setTimeout(() => (cleanup(), resolve(false)), timeoutMs) : null;
      const cleanup = () => {
        this.progress.off('position', onProgress);
        this.progress.off('stopped', onStopped);
        if (timer) clearTimeout(timer);
      };
      this.progress.on('position', onProgress);
      this.progress.on('stopped', onStopped);
    });
  }

  /** Runs `fn` between two batches: the views stay at `position` until it returns. */
  paused<T>(fn: (position: number) => Promise<T>): Promise<T> {
    const run = this.lock.then(() => fn(this.position));
    this.lock = run.catch(() => undefined);
    return run;
  }

  private handle(events: RecordedEvent[]): Promise<void> {
    return this.paused(() => this.applyAll(events));
  }

  private async applyAll(events: RecordedEvent[]): Promise<void> {
    const last = events[events.length - 1].position;
    // Projections are independent: their round trips overlap. Every one settles before the batch counts as
    // done, so a retried batch never runs beside a commit of the same projection still in flight.
    const results = await Promise.allSettled(this.targets.map((t) => this.applyTo(t, events)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    this.position = last;
    this.progress.emit('position', last);
  }

  private async applyTo(target: ProjectionTarget, events: RecordedEvent[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        target.checkpoint = await applyBatch(target.projection, events, this.views, {
          namespace: target.namespace,
          checkpointName: target.namespace,
          guard: target.guard,
          knownCheckpoint: target.checkpoint ?? undefined,
        });
        this.hooks.onBatch?.(target.projection.name, events.length, target.checkpoint);
        return;
      } catch (e) {
        target.checkpoint = null;
        if (e instanceof NamespaceRetired && attempt === 0 && this.hooks.onRetired) {
          await this.hooks.onRetired(target);
          continue;
        }
        if (e instanceof LeaseLost) this.hooks.onLeaseLost?.(target.projection);
        throw e;
      }
    }
  }
}

/** Where applyBatch writes: by default the projection's first namespace, unguarded, checkpoint named after it. */
export interface BatchTarget {
  namespace: string;
  checkpointName: string;
  guard?: WriteGuard;
  /** The namespace's checkpoint when the caller knows it; read from the store otherwise. */
  knownCheckpoint?: number;
}

/**
 * Applies one batch of events to one projection and commits the changes with the checkpoint.
 * Resolves with the checkpoint the namespace is at afterwards.
 */
export async function applyBatch(projection: Projection, events: RecordedEvent[], views: ViewStore, target?: BatchTarget): Promise<number> {
  const ns = target?.namespace ?? namespaceOf(projection);
  const checkpointName = target?.checkpointName ?? projection.name;
  const checkpoint = target?.knownCheckpoint ?? (await views.checkpoint(checkpointName));
  const last = events[events.length - 1].position;
  // A batch this projection already covers (the runner resumes from the lowest checkpoint) changes nothing.
  if (last <= checkpoint) return checkpoint;
  const types = eventTypesOf(projection);
  const relevant = events.filter((e) => e.position > checkpoint && types.has(e.type));
  const keys = [...new Set(relevant.flatMap((e) => projection.keysFor(e)))];
  const loaded = await views.getMany(keys.map((k) => ns + k));
  const docs = new Map<string, unknown>();
  keys.forEach((k, i) => docs.set(k, loaded[i]));
  const dirty = new Set<string>();
  // Only the last score of a member matters: an affiliate updated 100 times in a batch costs one zadd.
  const zops = new Map<string, Map<string, number | null>>();
  const ctx: ProjectionContext = {
    get: <T>(key: string) => {
      const value = docs.get(key);
      if (value === undefined && !docs.has(key)) throw new Error(`projection ${projection.name} read ${key} without naming it in keysFor`);
      return (value as T) ?? null;
    },
    put: (key, value) => {
      docs.set(key, value);
      dirty.add(key);
    },
    del: (key) => {
      docs.set(key, null);
      dirty.add(key);
    },
    zadd: (key, member, score) => setLast(zops, key, member, score),
    zrem: (key, member) => setLast(zops, key, member, null),
  };
  for (const event of relevant) projection.apply(event, ctx);
  const changes: ViewChange[] = [];
  for (const key of dirty) {
    const value = docs.get(key);
    changes.push(value === null || value === undefined ? { op: 'del', key: ns + key } : { op: 'put', key: ns + key, value });
  }
  for (const [key, members] of zops) {
    for (const [member, score] of members) changes.push(score === null ? { op: 'zrem', key: ns + key, member } : { op: 'zadd', key: ns + key, member, score });
  }
  await views.commit(checkpointName, changes, last, target?.guard);
  return last;
}

const typeSets = new WeakMap<Projection, Set<string>>();

function eventTypesOf(projection: Projection): Set<string> {
  let set = typeSets.get(projection);
  if (!set) typeSets.set(projection, (set = new Set(projection.eventTypes)));
  return set;
}

/** The last score per set and member (null: removed), without building a joined string for every index write. */
function setLast(zops: Map<string, Map<string, number | null>>, key: string, member: string, score: number | null): void {
  let members = zops.get(key);
  if (!members) zops.set(key, (members = new Map()));
  members.set(member, score);
}
