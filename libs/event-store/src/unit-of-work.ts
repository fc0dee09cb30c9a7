import { randomEventId } from '@lib/platform/ids';
import { AppendRequest, EventStore, EventToAppend, WrongExpectedRevision } from './event-store.port';

type Evolve<S, E> = (state: S | null, event: E) => S | null;

interface Cached {
  state: unknown;
  revision: number;
  evolve: Evolve<any, any>;
}

/**
 * Keeps folded stream states in memory (bounded, oldest dropped first) and catches a cached state up by
 * reading only the events after its revision. The store stays the authority: every append still
 * carries the exact expected revision, and a conflict drops the cached entry.
 */
export class StreamCache {
  private readonly entries = new Map<string, Cached>();

  constructor(private readonly store: EventStore, private readonly maxEntries = 100_000) {}

  async load<S, E extends { type: string }>(streamId: string, evolve: Evolve<S, E>): Promise<{ state: S | null; revision: number }> {
    return (await this.loadMany([streamId], evolve)).get(streamId)!;
  }

  /** Loads several streams folded with the same function, reading what the cache lacks in one call. */
  async loadMany<S, E extends { type: string }>(streamIds: string[], evolve: Evolve<S, E>): Promise<Map<string, { state: S | null; revision: number }>> {
    const known = streamIds.map((id) => {
      const hit = this.entries.get(id);
      return hit && hit.evolve === evolve ? { state: hit.state as S | null, revision: hit.revision } : { state: null, revision: -1 };
    });
    const newer =
      streamIds.length === 1
        ? new Map([[streamIds[0], await this.store.readStream<E>(streamIds[0], { fromRevision: known[0].revision + 1 })]])
        : await this.store.readStreams<E>(streamIds.map((streamId, i) => ({ streamId, fromRevision: known[i].revision + 1 })));
    const out = new Map<string, { state: S | null; revision: number }>();
    streamIds.forEach((streamId, i) => {
      let { state, revision } = known[i];
      for (const e of newer.get(streamId) ?? []) {
        state = evolve(state, e.data);
        revision = e.revision;
      }
      if (revision >= 0) this.remember(streamId, state, revision, evolve);
      out.set(streamId, { state, revision });
    });
    return out;
  }

  remember(streamId: string, state: unknown, revision: number, evolve: Evolve<any, any>): void {
    this.entries.delete(streamId);
    this.entries.set(streamId, { state, revision, evolve });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }

  forget(streamId: string): void {
    this.entries.delete(streamId);
  }
}

interface Pending {
  state: unknown;
  expected: number;
  revision: number;
  evolve: Evolve<any, any>;
  events: EventToAppend[];
  /** Only streams that were read are cached; write-only streams (one per click) would just evict them. */
  loaded: boolean;
}

/**
 * One decision cycle over several streams: load states (cached), decide, stage events per stream with the
 * revision each stream had when it was read, then append them all in one call.
 */
export class UnitOfWork {
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly store: EventStore, private readonly cache: StreamCache) {}

  async load<S, E extends { type: string }>(streamId: string, evolve: Evolve<S, E>): Promise<S | null> {
    const staged = this.pending.get(streamId);
    if (staged) return staged.state as S | null;
    const { state, revision } = await this.cache.load(streamId, evolve);
    this.pending.set(streamId, { state, expected: revision, revision, evolve, events: [], loaded: true });
    return state;
  }

  /** Loads streams ahead of the decisions that will read them, in one read (e.g. a batch's order streams). */
  async prefetch<S, E extends { type: string }>(streamIds: string[], evolve: Evolve<S, E>): Promise<void> {
    const wanted = [...new Set(streamIds)].filter((id) => !this.pending.has(id));
    if (wanted.length === 0) return;
    for (const [streamId, { state, revision }] of await this.cache.loadMany(wanted, evolve)) {
      this.pending.set(streamId, { state, expected: revision, revision, evolve, events: [], loaded: true });
    }
  }

  /** Stages an event on a stream loaded before (or a new one) and folds it into the staged state. */
  stage<E extends { type: string }>(streamId: string, event: E, options: { id?: string; metadata?: Record<string, unknown>; evolve?: Evolve<any, E> } = {}): void {
    let p = this.pending.get(streamId);
    if (!p) {
      p = { state: null, expected: -1, revision: -1, evolve: options.evolve ?? ((s) => s), events: [], loaded: false };
      this.pending.set(streamId, p);
    }
    p.events.push({ id: options.id ?? randomEventId(), type: event.type, data: event as unknown as Record<string, unknown>, metadata: options.metadata });
    p.state = p.evolve(p.state, event);
    p.revision += 1;
  }

  get empty(): boolean {
    return [...this.pending.values()].every((p) => p.events.length === 0);
  }

  requests(): AppendRequest[] {
    return [...this.pending.entries()]
      .filter(([, p]) => p.events.length > 0)
      .map(([streamId, p]) => ({ streamId, expectedRevision: p.expected === -1 ? 'no_stream' : p.expected, events: p.events }));
  }

  /** Appends everything staged. Returns the highest position written (0 when nothing was staged). */
  async commit(): Promise<number> {
    const requests = this.requests();
    if (requests.length === 0) return 0;
    try {
      const results = await this.store.appendBatch(requests);
      for (const r of results) {
        const p = this.pending.get(r.streamId)!;
        if (!p.loaded) continue;
        if (r.duplicate) this.cache.forget(r.streamId);
        else this.cache.remember(r.streamId, p.state, r.nextExpectedRevision, p.evolve);
      }
      return Math.max(...results.map((r) => r.position));
    } catch (e) {
      if (e instanceof WrongExpectedRevision) this.cache.forget(e.streamId);
      throw e;
    }
  }
}

/** Runs a decision cycle again when another writer got to a stream first (optimistic concurrency). */
export async function retryOnConflict<T>(attempt: () => Promise<T>, attempts = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof WrongExpectedRevision) || i >= attempts) throw e;
    }
  }
}
