/**
 * The sweep lease: node-cron's `runCoordinator` hook, written on Redis.
 *
 * For each tick every replica asks `shouldRun(key)`, where node-cron makes
 * `key` from the task name and the tick's time. One Lua script elects at most
 * one replica per tick (a marker key per tick) and none while a sweep still
 * holds the lease, so a slow sweep never overlaps the next one on any
 * replica. The winner renews the lease every third of its TTL while it
 * sweeps and releases it when done; if it dies (even by SIGKILL), the lease
 * expires after `leaseMs` and the next tick elects someone else. A release
 * that failed (Redis away) is sent again before this replica's next election.
 *
 * While it sweeps, the holder also keeps a mark (`…:running`: its holder id,
 * token and start time, kept a day) that it clears when the sweep ends. A
 * sweep that finds a mark left behind reports it: the previous sweep never
 * finished (killed, even by SIGKILL, or cut off from Redis).
 */
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import type { Cluster, Redis } from "ioredis";
import type { RunCoordinator } from "node-cron";
import type { Logger } from "pino";

export interface SweepLeaseOptions {
  /** One server or a cluster: every key of the lease shares one hash tag. */
  redis: Redis | Cluster;
  /** session-core's prefix, so the lease lives beside the data it guards. */
  prefix: string;
  leaseMs: number;
  logger: Logger;
  onChange?: (held: boolean) => void;
  /** Who this replica is, in the sweep mark; `<host>:<pid>` when unset. */
  holder?: string;
}

/** A sweep that started and never cleared its mark. */
export interface UnfinishedSweep {
  holder: string;
  startedAt: Date;
}

type LeaseCommands = {
  multisessionAcquireLease(
    lease: string,
    tick: string,
    token: string,
    leaseMs: number,
    tickMs: number,
  ): Promise<number>;
  multisessionRenewLease(lease: string, token: string, leaseMs: number): Promise<number>;
  multisessionReleaseLease(lease: string, token: string): Promise<number>;
  multisessionMarkSweepStart(mark: string, holder: string, token: string, markMs: number): Promise<string[]>;
  multisessionClearSweepMark(mark: string, token: string): Promise<number>;
};

const script = (file: string) => readFileSync(new URL(`./scripts/${file}`, import.meta.url), "utf8");

/** Tick markers only need to outlive the clock skew between replicas. */
const TICK_MARKER_MS = 10 * 60_000;
/** A sweep mark outlives any sweep by far, and still vanishes by itself. */
const SWEEP_MARK_MS = 24 * 60 * 60_000;

export class SweepLease implements RunCoordinator {
  readonly #redis: (Redis | Cluster) & LeaseCommands;
  readonly #leaseKey: string;
  readonly #markKey: string;
  readonly #holder: string;
  readonly #tagPrefix: string;
  readonly #options: SweepLeaseOptions;
  #token: string | null = null;
  /** A token of ours whose release did not reach Redis (an outage): released before the next election. */
  #unreleased: string | null = null;
  #renewTimer: NodeJS.Timeout | undefined;

  constructor(options: SweepLeaseOptions) {
    this.#options = options;
    this.#redis = options.redis as (Redis | Cluster) & LeaseCommands;
    this.#tagPrefix = `${options.prefix}{usersession-sweeper}`;
    this.#leaseKey = `${this.#tagPrefix}:lease`;
    this.#markKey = `${this.#tagPrefix}:running`;
    this.#holder = options.holder ?? `${hostname()}:${process.pid}`;
    for (const [name, file, numberOfKeys] of [
      ["multisessionAcquireLease", "acquire-lease-2.lua", 2],
      ["multisessionRenewLease", "renew-lease-1.lua", 1],
      ["multisessionReleaseLease", "release-lease-1.lua", 1],
      ["multisessionMarkSweepStart", "mark-sweep-start-1.lua", 1],
      ["multisessionClearSweepMark", "clear-sweep-mark-1.lua", 1],
    ] as const) {
      if (typeof (this.#redis as unknown as Record<string, unknown>)[name] !== "function") {
        this.#redis.defineCommand(name, { numberOfKeys, lua: script(file) });
      }
    }
  }

  get held(): boolean {
    return this.#token !== null;
  }

  async shouldRun(key: string): Promise<boolean> {
    await this.#releaseLeftover();
    const token = randomUUID();
    const { leaseMs } = this.#options;
    const result = await this.#redis.multisessionAcquireLease(
      this.#leaseKey,
      `${this.#tagPrefix}:tick:${key}`,
      token,
      leaseMs,
      TICK_MARKER_MS,
    );
    if (result !== 1) return false;
    this.#token = token;
    this.#options.onChange?.(true);
    this.#renewTimer = setInterval(() => void this.#renew(), Math.max(100, Math.floor(leaseMs / 3)));
    return true;
  }

  /** This replica's id in the sweep mark. */
  get holder(): string {
    return this.#holder;
  }

  /** Marks this holder's sweep as started; returns the previous sweep's mark if it was left behind. */
  async markSweepStart(): Promise<UnfinishedSweep | null> {
    const token = this.#token;
    if (!token) return null;
    const [holder, startedAt] = await this.#redis.multisessionMarkSweepStart(
      this.#markKey,
      this.#holder,
      token,
      SWEEP_MARK_MS,
    );
    return holder === undefined ? null : { holder, startedAt: new Date(Number(startedAt)) };
  }

  /** Clears this holder's sweep mark (call before `onComplete`, while the token is known). */
  async clearSweepMark(): Promise<void> {
    const token = this.#token;
    if (token) await this.#redis.multisessionClearSweepMark(this.#markKey, token);
  }

  async onComplete(): Promise<void> {
    const token = this.#token;
    this.#drop();
    if (!token) return;
    try {
      await this.#redis.multisessionReleaseLease(this.#leaseKey, token);
    } catch (error) {
      this.#unreleased = token;
      throw error;
    }
  }

  /**
   * Our own lease, left in Redis when its release failed, would otherwise keep
   * every replica, this one included, from sweeping until it expired. The
   * release script only deletes a lease that still holds our token.
   */
  async #releaseLeftover(): Promise<void> {
    const token = this.#unreleased;
    if (!token) return;
    try {
      await this.#redis.multisessionReleaseLease(this.#leaseKey, token);
      this.#unreleased = null;
    } catch (error) {
      this.#options.logger.debug({ err: error }, "earlier sweep lease still not released");
    }
  }

  async #renew(): Promise<void> {
    const token = this.#token;
    if (!token) return;
    try {
      if ((await this.#redis.multisessionRenewLease(this.#leaseKey, token, this.#options.leaseMs)) === 0) {
        this.#options.logger.warn("sweep lease lost; this sweep stops after its current batch");
        this.#drop();
      }
    } catch (error) {
      this.#options.logger.warn({ err: error }, "sweep lease renewal failed; will retry");
    }
  }

  #drop(): void {
    clearInterval(this.#renewTimer);
    if (this.#token !== null) this.#options.onChange?.(false);
    this.#token = null;
  }
}
