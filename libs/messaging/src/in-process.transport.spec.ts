import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Unavailable } from '@lib/platform/errors';
import { InProcessTransport } from './in-process.transport';
import { MessageOutcome, TrackingMessage } from './transport.port';

const message = (id: string): TrackingMessage => ({
  id,
  kind: 'click',
  key: 'p1:a1',
  programId: 'p1',
  receivedAt: '2025-03-01T00:00:00.000Z',
  body: { clickId: id },
});

const ids = (batches: TrackingMessage[][]) => batches.map((b) => b.map((m) => m.id));

/** A latch the test opens when it wants the handler to return. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

/** Lets every queued callback run (setImmediate and promise jobs), so "not settled yet" means "waits for the handler". */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

/** Tracks a promise's outcome without awaiting it. */
function watch(p: Promise<void>) {
  const state: { settled: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { settled: 'pending' };
  p.then(
    () => (state.settled = 'resolved'),
    (error) => Object.assign(state, { settled: 'rejected', error }),
  );
  return state;
}

describe('InProcessTransport', () => {
  let dir: string;
  let deadLetterFile: string;
  let transport: InProcessTransport;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'transport-'));
    deadLetterFile = path.join(dir, 'dead-letters.jsonl');
    transport = new InProcessTransport({ deadLetterFile });
  });

  afterEach(async () => {
    await transport.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const processed = (batch: TrackingMessage[]): MessageOutcome[] => batch.map(() => ({ status: 'processed' }));

  it('given a batch in the handler, when more messages are published meanwhile, then they all go into the next batch together (group commit)', async () => {
    const batches: TrackingMessage[][] = [];
    const first = gate();
    const entered = gate();
    await transport.consume(async (batch) => {
      batches.push(batch);
      if (batches.length === 1) {
        entered.open();
        await first.opened;
      }
      return processed(batch);
    });

    const p1 = transport.publish([message('m1')]);
    await entered.opened;
    const p2 = transport.publish([message('m2')]);
    const p3 = transport.publish([message('m3')]);
    const p4 = transport.publish([message('m4'), message('m5')]);
    first.open();
    await Promise.all([p1, p2, p3, p4]);

    expect(ids(batches)).toEqual([['m1'], ['m2', 'm3', 'm4', 'm5']]);
  });

  it('given messages published in the same tick, when the queue drains, then they share one batch', async () => {
    const batches: TrackingMessage[][] = [];
    await transport.consume(async (batch) => {
      batches.push(batch);
      return processed(batch);
    });
    await Promise.all([transport.publish([message('m1')]), transport.publish([message('m2'), message('m3')])]);
    expect(ids(batches)).toEqual([['m1', 'm2', 'm3']]);
  });

  it('given a handler that has not returned, when the publish is watched, then it resolves only after the handler returned', async () => {
    const release = gate();
    const entered = gate();
    let handlerReturned = false;
    await transport.consume(async (batch) => {
      entered.open();
      await release.opened;
      handlerReturned = true;
      return processed(batch);
    });
    const published = watch(transport.publish([message('m1')]));
    await entered.opened;
    await settle();
    expect(published.settled).toBe('pending');

    release.open();
    await settle();
    expect(handlerReturned).toBe(true);
    expect(published.settled).toBe('resolved');
  });

  it('given messages published before anyone consumes, when a consumer starts, then they are delivered and the publish resolves', async () => {
    const published = watch(transport.publish([message('m1')]));
    await settle();
    expect(published.settled).toBe('pending');
    const batches: TrackingMessage[][] = [];
    await transport.consume(async (batch) => {
      batches.push(batch);
      return processed(batch);
    });
    await settle();
    expect(published.settled).toBe('resolved');
    expect(ids(batches)).toEqual([['m1']]);
  });

  it('given a handler that throws, when its batch fails, then every publish of that batch rejects with Unavailable (503) and the next batch still goes through', async () => {
    const batches: TrackingMessage[][] = [];
    const entered = gate();
    const release = gate();
    await transport.consume(async (batch) => {
      batches.push(batch);
      if (batches.length === 1) {
        entered.open();
        await release.opened;
        throw new Error('disk full');
      }
      return processed(batch);
    });
    const a = watch(transport.publish([message('m1')]));
    const b = watch(transport.publish([message('m2'), message('m3')]));
    await entered.opened;
    const later = watch(transport.publish([message('m4')]));
    release.open();
    await settle();

    expect(ids(batches)).toEqual([['m1', 'm2', 'm3'], ['m4']]);
    for (const p of [a, b]) {
      expect(p.settled).toBe('rejected');
      expect(p.error).toBeInstanceOf(Unavailable);
      expect(p.error).toMatchObject({ status: 503 });
      expect((p.error as Error).message).toContain('disk full');
    }
    expect(later.settled).toBe('resolved');
  });

  it('given a dead_letter outcome, when the batch is handled, then the message is written to the dead-letter file with its reason and the publish resolves', async () => {
    await transport.consume(async (batch) =>
      batch.map((m): MessageOutcome => (m.id === 'bad' ? { status: 'dead_letter', reason: 'validation_failed: program p9 does not exist' } : { status: 'processed' })),
    );
    await transport.publish([message('good'), message('bad')]);

    const lines = fs.readFileSync(deadLetterFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ reason: 'validation_failed: program p9 does not exist', message: message('bad') });
    expect(Number.isNaN(Date.parse(lines[0].at))).toBe(false);
    expect(transport.deadLettered).toBe(1);
  });

  it('given a maximum batch size of 2, when 5 messages wait, then they are handled in batches of 2, 2 and 1', async () => {
    transport = new InProcessTransport({ deadLetterFile, maxBatch: 2 });
    const batches: TrackingMessage[][] = [];
    await transport.consume(async (batch) => {
      batches.push(batch);
      return processed(batch);
    });
    await transport.publish(['m1', 'm2', 'm3', 'm4', 'm5'].map(message));
    expect(ids(batches)).toEqual([['m1', 'm2'], ['m3', 'm4'], ['m5']]);
  });

  it('given a closed transport, when publishing, then Unavailable and nothing reaches the handler', async () => {
    const batches: TrackingMessage[][] = [];
    await transport.consume(async (batch) => {
      batches.push(batch);
      return processed(batch);
    });
    await transport.close();
    await expect(transport.publish([message('m1')])).rejects.toBeInstanceOf(Unavailable);
    await expect(transport.ping()).rejects.toBeInstanceOf(Unavailable);
    await settle();
    expect(batches).toEqual([]);
  });
});
