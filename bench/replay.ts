/**
 * Replays every view from position 0 out of a DATA_DIR's event store into fresh in-memory views, the way
 * the app does at boot, and prints events/s and peak memory as one JSON line.
 *   node dist/bench/replay.js DIR
 */
import { join } from 'node:path';
import { SqliteEventStore } from '@lib/event-store/sqlite.event-store';
import { InMemoryViewStore } from '@lib/views/in-memory.view-store';
import { applyBatch } from '@lib/views/projection.runner';
import { ALL_PROJECTIONS } from '@lib/roles/projector.module';

async function main() {
  const store = new SqliteEventStore({ file: join(process.argv[2], 'events.sqlite') });
  const views = new InMemoryViewStore();
  const started = process.hrtime.bigint();
  let after = 0;
  let events = 0;
  for (;;) {
    const batch = await store.readAll({ after, maxCount: 5000 });
    if (batch.length === 0) break;
    for (const p of ALL_PROJECTIONS) await applyBatch(p, batch, views);
    events += batch.length;
    after = batch[batch.length - 1].position;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await store.close();
  process.stdout.write(JSON.stringify({ events, seconds, eventsPerSec: events / seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 }) + '\n');
}

void main();
