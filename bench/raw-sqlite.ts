/**
 * References measured beside the product with better-sqlite3 alone:
 *   scan DIR          every row of the events table with JSON.parse per row (the ceiling for replay)
 *   append N          N events like the product's, 1000 per transaction, WAL, synchronous=FULL like the app
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function scan(dir: string) {
  const db = new Database(join(dir, 'events.sqlite'), { readonly: true });
  const started = process.hrtime.bigint();
  let events = 0;
  for (const row of db.prepare('SELECT * FROM events ORDER BY position').iterate() as Iterable<{ data: string; metadata: string }>) {
    JSON.parse(row.data);
    JSON.parse(row.metadata);
    events++;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { events, seconds, eventsPerSec: events / seconds, peakRssMb: process.resourceUsage().maxRSS / 1024 };
}

function append(n: number) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-raw-'));
  const db = new Database(join(dir, 'raw.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE events (position INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, stream_id TEXT NOT NULL,
    revision INTEGER NOT NULL, type TEXT NOT NULL, schema_version INTEGER NOT NULL, data TEXT NOT NULL, metadata TEXT NOT NULL,
    recorded_at TEXT NOT NULL, UNIQUE (stream_id, revision))`);
  const insert = db.prepare('INSERT INTO events (event_id, stream_id, revision, type, schema_version, data, metadata, recorded_at) VALUES (?, ?, 0, ?, 1, ?, ?, ?)');
  const write = db.transaction((from: number) => {
    const at = new Date().toISOString();
    for (let i = from; i < from + 1000; i++) {
      const data = JSON.stringify({ type: 'ConversionRecorded', programId: 'prg_bench', storefrontId: 'sf_bench', conversionId: `cv_${i}`, orderId: `o-${i}`, amountMinor: 1999, currency: 'EUR', occurredAt: at, attribution: { attributed: false, reason: 'no_click' } });
      insert.run(randomUUID(), `order-sf_bench-o-${i}`, 'ConversionRecorded', data, '{}', at);
    }
  });
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i += 1000) write(i);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return { events: n, seconds, eventsPerSec: n / seconds };
}

const [mode, arg] = process.argv.slice(2);
process.stdout.write(JSON.stringify(mode === 'scan' ? scan(arg) : append(Number(arg))) + '\n');
