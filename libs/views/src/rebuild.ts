import { Logger } from 'pino';
import { EventStore } from '@lib/event-store/event-store.port';
import { Conflict } from '@lib/platform/errors';
import { leaseKeyOf, namespaceOf, Projection, projectionIdOf } from './projection';
import { applyBatch } from './projection.runner';
import { ViewsSettings } from './views.config';
import { ViewStore, WriteGuard } from './view-store.port';

export interface RebuildProgress {
  projection: string;
  namespace: string;
  phase: 'replaying' | 'swapping' | 'retiring' | 'done' | 'failed';
  position: number;
  head: number;
  events: number;
  startedAt: string;
  ms: number;
  eventsPerSecond: number;
  retired: string | null;
  deletedKeys: number;
  error?: string;
}

export interface RebuildDeps {
  store: EventStore;
  views: ViewStore;
  settings: ViewsSettings;
  logger?: Logger;
}

/**
 * Rebuilds one projection from position 0 without downtime: replays the whole log into a new namespace
 * (registered as `building`) while the active one keeps serving reads and the live projector keeps writing
 * it; once the new namespace has caught up with the store and covers at least what the active one covers,
 * swaps it in atomically (swap.lua), waits `retireGraceMs` for readers that cached the old namespace, and
 * deletes the old keys. A rebuild that died is resumed from its namespace's checkpoint by the next one.
 */
export async function rebuildProjection(
  deps: RebuildDeps,
  projection: Projection,
  options: { holder: string; onProgress?: (p: RebuildProgress) => void },
): Promise<RebuildProgress> {
  const { store, views, settings, logger } = deps;
  const id = projectionIdOf(projection);
  const leaseKey = leaseKeyOf(projection, 'rebuild');
  const leaseMs = views.shared ? settings.leaseMs : 2 ** 31 - 1;
  const token = await views.acquireLease(leaseKey, options.holder, leaseMs);
  if (!token) throw new Conflict(`a rebuild of ${projection.name} is already running (${await views.leaseHolder(leaseKey)})`);
  let leaseLost = false;
  const renew = views.shared
    ? setInterval(() => {
        views.renewLease(leaseKey, token, leaseMs).then((held) => (leaseLost ||= !held), () => undefined);
      }, Math.max(100, Math.floor(leaseMs / 3)))
    : null;
  const started = Date.now();
  const progress: RebuildProgress = {
    projection: projection.name,
    namespace: '',
    phase: 'replaying',
    position: 0,
    head: 0,
    events: 0,
    startedAt: new Date(started).toISOString(),
    ms: 0,
    eventsPerSecond: 0,
    retired: null,
    deletedKeys: 0,
  };
  const report = (phase: RebuildProgress['phase']) => {
    progress.phase = phase;
    progress.ms = Date.now() - started;
    progress.eventsPerSecond = progress.ms > 0 ? Math.round((progress.events * 1000) / progress.ms) : 0;
    options.onProgress?.({ ...progress });
  };
  try {
    const reg = await views.registry(id);
    if (!reg.active) throw new Conflict(`${projection.name} has no active views yet: the projector is building them for the first time`);
    let namespace = reg.building;
    if (namespace) {
      logger?.info({ projection: projection.name, namespace }, 'resuming a rebuild that did not finish');
    } else {
      namespace = namespaceOf(projection, await views.nextGeneration(id));
      if (!(await views.registerBuild(id, namespace))) throw new Conflict(`another rebuild of ${projection.name} registered first`);
    }
    progress.namespace = namespace;
    const guard: WriteGuard = { lease: { key: leaseKey, token }, registry: { projection: id, role: 'building', namespace } };
    let checkpoint = await views.checkpoint(namespace);
    progress.position = checkpoint;
    progress.head = await store.headPosition();
    report('replaying');
    for (;;) {
      if (leaseLost) throw new Conflict(`the rebuild of ${projection.name} lost its lease`);
      const batch = await store.readAll({ after: checkpoint, maxCount: settings.batchSize });
      if (batch.length > 0) {
        checkpoint = await applyBatch(projection, batch, views, { namespace, checkpointName: namespace, guard, knownCheckpoint: checkpoint });
        progress.events += batch.length;
        progress.position = checkpoint;
        if (checkpoint > progress.head) progress.head = checkpoint;
        report('replaying');
        continue;
      }
      // Caught up with the store: swap in, unless the live projector has meanwhile gone further (read on).
      report('swapping');
      const result = await views.swap(id, guard);
      if (result.swapped) {
        progress.retired = result.retired;
        break;
      }
    }
    logger?.info({ projection: projection.name, namespace, events: progress.events, ms: Date.now() - started }, 'rebuilt projection swapped in');
    if (progress.retired && progress.retired !== namespace) {
      report('retiring');
      await new Promise((r) => setTimeout(r, settings.retireGraceMs));
      progress.deletedKeys = await views.deleteNamespace(progress.retired);
    }
    report('done');
    return { ...progress };
  } catch (e) {
    progress.error = (e as Error).message;
    report('failed');
    throw e;
  } finally {
    if (renew) clearInterval(renew);
    await views.releaseLease(leaseKey, token).catch(() => undefined);
  }
}
