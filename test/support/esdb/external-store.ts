/**
 * Glue for running the e2e specs with the EventStoreDB adapter selected: the PROTOCOL TEST DOUBLE
 * (libs/event-store/src/testing/esdb-test-double.ts, an in-memory gRPC server, not EventStoreDB) runs in
 * the jest process, apps started by test/support/app.ts get EVENTSTORE_CONNECTION_STRING pointing at it,
 * and the store readers of app.ts (countEvents, readEvents, headPosition, storeContains) read the double's
 * log instead of the SQLite file, decoded exactly as the adapter decodes what it reads.
 */
import { fromEsdb } from '@lib/event-store/eventstoredb.event-store';
import { DoubleRecord, EsdbTestDouble } from '@lib/event-store/testing/esdb-test-double';
import type { ExternalEventStore, StoredEvent } from '../app';

export function externalStoreOf(double: EsdbTestDouble): ExternalEventStore {
  return {
    env: { EVENTSTORE_CONNECTION_STRING: double.connectionString },
    // System events ($-streams, $-types) are the server's own; the app never sees them either.
    events: () => double.records().filter((r) => !r.streamId.startsWith('$') && !r.type.startsWith('$')).map(toStored),
  };
}

function toStored(r: DoubleRecord): StoredEvent {
  const json = (b: Buffer) => (b.length > 0 ? JSON.parse(b.toString('utf8')) : undefined);
  const e = fromEsdb({
    id: r.id,
    streamId: r.streamId,
    revision: BigInt(r.revision),
    type: r.type,
    isJson: true,
    data: json(r.data),
    metadata: json(r.metadata),
    created: new Date(Number(r.created / 10_000n)),
    position: { commit: BigInt(r.position), prepare: BigInt(r.position) },
  });
  return { position: e.position, eventId: e.id, streamId: e.streamId, revision: e.revision, type: e.type, data: e.data, metadata: e.metadata, recordedAt: e.recordedAt };
}
