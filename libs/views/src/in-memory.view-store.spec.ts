import { InMemoryViewStore, nextUp } from './in-memory.view-store';
import { viewStoreContract } from './view-store.contract';

describe('InMemoryViewStore', () => {
  viewStoreContract(async () => new InMemoryViewStore());

  it('nextUp gives the next double above a number, so "score ≤ max" can be a strict bound in the tree', () => {
    expect(nextUp(1)).toBeGreaterThan(1);
    expect(nextUp(1) - 1).toBe(Number.EPSILON);
    expect(nextUp(0)).toBe(Number.MIN_VALUE);
    expect(nextUp(-1)).toBeGreaterThan(-1);
    expect(nextUp(0.25) > 0.25 && (0.25 + nextUp(0.25)) / 2 <= 0.25 + Number.EPSILON).toBe(true);
  });
});
