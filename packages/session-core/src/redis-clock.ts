/**
 * Redis's clock, as seen from this process: synced with TIME now and then,
 * advanced in between with the monotonic clock (so wall-clock jumps on the
 * app server do not matter). Its error is bounded by half the round trip of
 * the sync plus a safety margin, and `latestMs` adds that bound.
 *
 * It lets a read accept a session without a script when the session is
 * clearly live and not due for renewal; anything close to a boundary goes to
 * the read script, which decides with TIME itself. No timers: a sync starts
 * when an estimate is older than `resyncMs`, and an estimate older than
 * `staleMs` is not used at all.
 */
import type { Cluster, Redis } from "ioredis";

const SAFETY_MARGIN_MS = 250;

export class RedisClock {
  readonly #redis: Redis | Cluster;
  readonly #resyncMs: number;
  readonly #staleMs: number;
  #redisMsAtSync = 0;
  #perfAtSync = Number.NEGATIVE_INFINITY;
  #halfRoundTripMs = 0;
  #syncing: Promise<void> | null = null;

  constructor(redis: Redis | Cluster, options: { resyncMs?: number; staleMs?: number } = {}) {
    this.#redis = redis;
    this.#resyncMs = options.resyncMs ?? 5_000;
    this.#staleMs = options.staleMs ?? 30_000;
  }

  /**
   * The latest Redis's clock can read now (the estimate plus its
   * uncertainty), without allocating: NaN when there is no recent sync, so
   * every comparison with it is false.
   */
  latestMs(): number {
    const age = performance.now() - this.#perfAtSync;
    if (age >= this.#resyncMs) void this.sync();
    if (age >= this.#staleMs) return Number.NaN;
    return this.#redisMsAtSync + age + this.#halfRoundTripMs + SAFETY_MARGIN_MS;
  }

  /** One TIME round trip; concurrent callers share it. Failures leave the old estimate to go stale. */
  sync(): Promise<void> {
    this.#syncing ??= (async () => {
      try {
        const sent = performance.now();
        const [seconds, micros] = await this.#redis.time();
        const received = performance.now();
        this.#halfRoundTripMs = (received - sent) / 2;
        this.#redisMsAtSync = Number(seconds) * 1000 + Number(micros) / 1000;
        // TIME was read somewhere in the round trip: take its middle.
        this.#perfAtSync = sent + this.#halfRoundTripMs;
      } catch {
        // Reads fall back to the script until a sync succeeds.
      } finally {
        this.#syncing = null;
      }
    })();
    return this.#syncing;
  }
}
