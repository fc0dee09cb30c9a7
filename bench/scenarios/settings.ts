export interface Settings {
  quick: boolean;
  runs: number;
  connections: number;
  durationS: number;
  freshnessS: number;
  rawAppendEvents: number;
  replaySizes: number[];
  readSizes: number[];
}

export function settings(quick: boolean, runs?: number): Settings {
  return quick
    ? { quick, runs: runs ?? 1, connections: 10, durationS: 2, freshnessS: 4, rawAppendEvents: 10_000, replaySizes: [10_000], readSizes: [100] }
    : { quick, runs: runs ?? 3, connections: 50, durationS: 10, freshnessS: 15, rawAppendEvents: 100_000, replaySizes: [100_000, 1_000_000], readSizes: [100, 10_000, 100_000] };
}
