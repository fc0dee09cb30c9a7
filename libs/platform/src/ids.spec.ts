import { deterministicUuid, randomChunk, sha256 } from './ids';

describe('ids', () => {
  it('derives the same deterministic ids as the events already stored (a redelivery must map to the same id)', () => {
    // Values produced by the first version of deterministicUuid and sha256; stored event ids depend on them.
    expect(deterministicUuid('conversion', 'sf_1', 'o-1')).toBe('bff6d2bf-5103-5237-9317-17634d93a6f4');
    expect(deterministicUuid('click', 'abc.def')).toBe('65996166-249b-5a6e-9a87-561f99cad10e');
    expect(sha256('x')).toBe('2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881');
  });

  it('gives random chunks that differ and survive the pool being refilled', () => {
    const seen = new Set<string>();
    // 6-byte chunks across more than two refills of the 4 KiB pool.
    for (let i = 0; i < 2000; i++) {
      const chunk = randomChunk(6);
      expect(chunk.length).toBe(6);
      seen.add(chunk.toString('hex'));
    }
    expect(seen.size).toBe(2000);
    const kept = randomChunk(16);
    const copy = Buffer.from(kept);
    for (let i = 0; i < 1000; i++) randomChunk(6);
    expect(kept.equals(copy)).toBe(true);
  });
});
