import { RecordedEvent } from './event-store.port';
import { Upcasters } from './upcasting';

const recorded = (type: string, schemaVersion: number, data: Record<string, unknown>): RecordedEvent => ({
  id: 'e1',
  streamId: 'affiliate-a1',
  revision: 0,
  position: 10,
  type,
  schemaVersion,
  data,
  metadata: {},
  recordedAt: '2026-01-01T00:00:00.000Z',
});

describe('Upcasters', () => {
  const registry = () =>
    new Upcasters([
      { type: 'PayoutRecorded', fromVersion: 1, upcast: (d: { amount: number }) => ({ amountMinor: d.amount }) },
      { type: 'PayoutRecorded', fromVersion: 2, upcast: (d: { amountMinor: number }) => ({ ...d, reference: null }) },
    ]);

  it('given a v1 event and upcasters v1→v2→v3, when applied, then the data is in the v3 shape and the version says so', () => {
    const upcast = registry().apply(recorded('PayoutRecorded', 1, { amount: 500 }));
    expect(upcast).toMatchObject({ schemaVersion: 3, data: { amountMinor: 500, reference: null }, id: 'e1', position: 10 });
  });

  it('given an event in the middle of the chain, when applied, then only the later upcasters run', () => {
    expect(registry().apply(recorded('PayoutRecorded', 2, { amountMinor: 7 })).data).toEqual({ amountMinor: 7, reference: null });
  });

  it('given an event already current or of another type, when applied, then it is returned unchanged (the same object)', () => {
    const current = recorded('PayoutRecorded', 3, { amountMinor: 1, reference: 'x' });
    const other = recorded('PayoutVoided', 1, { amount: 1 });
    expect(registry().apply(current)).toBe(current);
    expect(registry().apply(other)).toBe(other);
  });

  it('given a stored event, when upcast, then the stored object is not modified (history is never rewritten)', () => {
    const stored = recorded('PayoutRecorded', 1, { amount: 500 });
    registry().apply(stored);
    expect(stored).toMatchObject({ schemaVersion: 1, data: { amount: 500 } });
  });

  it('given two upcasters from the same version of a type, when registered, then it refuses the second', () => {
    expect(() => registry().register({ type: 'PayoutRecorded', fromVersion: 1, upcast: (d) => d })).toThrow(/already registered/);
  });
});
