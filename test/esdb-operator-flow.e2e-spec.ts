/**
 * The operator flow (test/operator-flow.e2e-spec.ts, unchanged) with the EventStoreDB adapter selected:
 * the built standalone app gets EVENTSTORE_CONNECTION_STRING pointing at the PROTOCOL TEST DOUBLE, an
 * in-memory gRPC server in this jest process that speaks EventStoreDB's protocol to the real
 * `@eventstore/db-client` (it is not EventStoreDB; see libs/event-store/src/testing/esdb-test-double.ts).
 * The spec's direct reads of the store (event counts, stored events, the head position) read the
 * double's log through test/support/esdb/external-store.ts instead of the SQLite file.
 */
import { EsdbTestDouble } from '@lib/event-store/testing/esdb-test-double';
import { useExternalEventStore } from './support/app';
import { externalStoreOf } from './support/esdb/external-store';

let double: EsdbTestDouble;

// Registered before the operator flow's own beforeAll (which starts the app), so the app uses the double.
beforeAll(async () => {
  double = await EsdbTestDouble.start();
  useExternalEventStore(externalStoreOf(double));
});

// eslint-disable-next-line @typescript-eslint/no-require-imports
require('./operator-flow.e2e-spec');

describe('with the EventStoreDB adapter selected', () => {
  it("the flow's events went through EventStoreDB's Append call to the server", () => {
    expect(double.appendCalls).toBeGreaterThan(0);
    const types = new Set(double.records().map((r) => r.type));
    for (const t of ['ProgramCreated', 'AffiliateEnrolled', 'ClickRecorded', 'ConversionRecorded', 'CommissionEarned', 'PayoutRecorded']) expect(types).toContain(t);
  });
});

afterAll(async () => {
  useExternalEventStore(null);
  await double?.stop();
});
