/** How big each run is. `tiny` exists so a unit test can run the whole harness in seconds. */
export type Mode = "tiny" | "quick" | "full";

export interface Sizes {
  rounds: number;
  /** Length of one throughput measurement. */
  measureMs: number;
  warmupMs: number;
  concurrency: number;
  /** Users with 2 sessions each for the read benchmarks. */
  readUsers: number;
  /** Users with 5 sessions each for `list`. */
  listUsers: number;
  /** Sessions created, then removed, per round for `remove` and `removeAll`. */
  removals: number;
  /** Expired sessions read, then their jobs drained. */
  expiredJobs: number;
  /** Dangling users for the sweeper. */
  sweepUsers: number;
  /** Users with 2 sessions each for the memory figure. */
  memoryUsers: number;
  /** Dangling users swept while the latency suite measures reads (the sweep must outlast several windows). */
  latencySweepUsers: number;
  /** Length of one latency window; a window counts only if the sweep ran from its start to its end. */
  latencyWindowMs: number;
  /** Dangling users swept by 1, 2 and 3 worker replicas on each topology in the cluster suite. */
  clusterSweepUsers: number;
  /** Rounds of the cluster suite's sweeps (each round seeds and sweeps once per setup). */
  clusterSweepRounds: number;
}

export const SIZES: Record<Mode, Sizes> = {
  tiny: {
    rounds: 1,
    measureMs: 150,
    warmupMs: 20,
    concurrency: 32,
    readUsers: 200,
    listUsers: 50,
    removals: 200,
    expiredJobs: 200,
    sweepUsers: 1_000,
    memoryUsers: 500,
    latencySweepUsers: 60_000,
    latencyWindowMs: 100,
    clusterSweepUsers: 2_000,
    clusterSweepRounds: 1,
  },
  quick: {
    rounds: 3,
    measureMs: 650,
    warmupMs: 150,
    concurrency: 256,
    readUsers: 20_000,
    listUsers: 2_000,
    removals: 20_000,
    expiredJobs: 20_000,
    sweepUsers: 50_000,
    memoryUsers: 20_000,
    latencySweepUsers: 250_000,
    latencyWindowMs: 500,
    clusterSweepUsers: 100_000,
    clusterSweepRounds: 1,
  },
  full: {
    rounds: 5,
    measureMs: 3_000,
    warmupMs: 500,
    concurrency: 256,
    readUsers: 20_000,
    listUsers: 2_000,
    removals: 60_000,
    expiredJobs: 100_000,
    sweepUsers: 1_000_000,
    memoryUsers: 100_000,
    latencySweepUsers: 1_000_000,
    latencyWindowMs: 500,
    clusterSweepUsers: 1_000_000,
    clusterSweepRounds: 2,
  },
};
