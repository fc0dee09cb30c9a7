import { EventEmitter } from 'node:events';
import { EventStore, RecordedEvent, Subscription } from '@lib/event-store/event-store.port';
import { namespaceOf, Projection, ProjectionContext } from './projection';
import { ViewChange, ViewStore } from './view-store.port';

export interface RunnerHooks {
  onBatch?: (projection: string, events: number, position: number) => void;
  onError?: (error: Error) => void;
}

/**
 * Feeds events from the store to projections. Each batch's changes and the checkpoint that covers them
 * go to the view store in one commit, so a crash repeats at most one uncommitted batch.
 */
export class ProjectionRunner {
  private subscription: Subscription | null = null;
  private readonly progress = new EventEmitter();
  private position = 0;
  /** Serialises batches with readers that need the views to hold still (hash comparisons). */
  private lock: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: EventStore,
    private readonly views: ViewStore,
    readonly projections: readonly Projection[],
    private readonly hooks: RunnerHooks = {},
  ) {
    this.progress.setMaxListeners(0);
  }

  /** Subscribes from the lowest checkpoint and resolves once the views caught up with the head at start. */
  async start(batchSize = 2000): Promise<void> {
    const checkpoints = await Promise.all(this.projections.map((p) => this.views.checkpoint(p.name)));
    const from = Math.min(...checkpoints);
    this.position = from;
    const head = await this.store.headPosition();
    this.subscription = this.store.subscribeToAll({ after: from, batchSize, onError: this.hooks.onError }, (events) =>
      this.handle(events),
    );
    await this.waitFor(head, Number.POSITIVE_INFINITY);
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
    this.subscription = null;
  }

  get checkpoint(): number {
    return this.position;
  }

  /** Resolves when the views include `position` (read-your-writes for operator commands). */
  waitFor(position: number, timeoutMs = 5000): Promise<boolean> {
    if (this.position >= position) return Promise.resolve(true);
    return new Promise((resolve) => {
      const onProgress = (p: number) => {
        if (p < position) return;
        cleanup();
        resolve(true);
      };
      const timer = Number.isFinite(timeoutMs) ? setTimeout(() => (cleanup(), resolve(false)), timeoutMs) : null;
      const cleanup = () => {
        this.progress.off('position', onProgress);
        if (timer) clearTimeout(timer);
      };
      this.progress.on('position', onProgress);
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
    for (const projection of this.projections) {
      await applyBatch(projection, events, this.views);
      this.hooks.onBatch?.(projection.name, events.length, last);
    }
    this.position = last;
    this.progress.emit('position', last);
  }
}

/** Applies one batch of events to one projection and commits the changes with the checkpoint. */
export async function applyBatch(projection: Projection, events: RecordedEvent[], views: ViewStore): Promise<void> {
  const checkpoint = await views.checkpoint(projection.name);
  const last = events[events.length - 1].position;
  // A batch this projection already covers (the runner resumes from the lowest checkpoint) changes nothing.
  if (last <= checkpoint) return;
  const types = eventTypesOf(projection);
  const relevant = events.filter((e) => e.position > checkpoint && types.has(e.type));
  const ns = namespaceOf(projection);
  const keys = [...new Set(relevant.flatMap((e) => projection.keysFor(e)))];
  const loaded = await views.getMany(keys.map((k) => ns + k));
  const docs = new Map<string, unknown>();
  keys.forEach((k, i) => docs.set(k, loaded[i]));
  const dirty = new Set<string>();
  // Only the last score of a member matters: an affiliate updated 100 times in a batch costs one zadd.
  const zops = new Map<string, ViewChange>();
  const ctx: ProjectionContext = {
    get: <T>(key: string) => {
      if (!docs.has(key)) throw new Error(`projection ${projection.name} read ${key} without naming it in keysFor`);
      return (docs.get(key) as T) ?? null;
    },
    put: (key, value) => {
      docs.set(key, value);
      dirty.add(key);
    },
    del: (key) => {
      docs.set(key, null);
      dirty.add(key);
    },
    zadd: (key, member, score) => setLast(zops, { op: 'zadd', key: ns + key, member, score }),
    zrem: (key, member) => setLast(zops, { op: 'zrem', key: ns + key, member }),
  };
  for (const event of relevant) projection.apply(event, ctx);
  const changes: ViewChange[] = [];
  for (const key of dirty) {
    const value = docs.get(key);
    changes.push(value === null || value === undefined ? { op: 'del', key: ns + key } : { op: 'put', key: ns + key, value });
  }
  changes.push(...zops.values());
  await views.commit(projection.name, changes, last);
}

const typeSets = new WeakMap<Projection, Set<string>>();

function eventTypesOf(projection: Projection): Set<string> {
  let set = typeSets.get(projection);
  if (!set) typeSets.set(projection, (set = new Set(projection.eventTypes)));
  return set;
}

function setLast(zops: Map<string, ViewChange>, change: ViewChange & { member: string }): void {
  zops.set(`${change.key}\u0000${change.member}`, change);
}
