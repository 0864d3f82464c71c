/**
 * The sweep leases: one per slot group (slot-groups.ts), so that replicas
 * share the sweep instead of taking turns at it.
 *
 * On each tick every replica walks the groups and asks `acquire(group, tick)`
 * for each. One Lua script grants a group to at most one replica per tick (a
 * marker key per group and tick) and to none while a sweep of that group
 * still holds its lease, so a group is never swept by two replicas at once.
 * The holder renews the lease every third of its TTL while it sweeps the
 * group and releases it when done; if it dies (even by SIGKILL), the lease
 * expires after `leaseMs` and a later tick gives the group to someone else. A
 * renewal that finds the lease gone drops it: `holds(group)` turns false and
 * that group's sweep stops after its current step. A release that failed
 * (Redis away) is sent again before this replica next asks for that group.
 *
 * While it sweeps a group, the holder also keeps that group's mark
 * (`…:running:<group>`: its holder id, token and start time, kept a day),
 * cleared when the group's sweep ends. The next holder of the group that
 * finds a mark left behind reports it: that sweep never finished (killed,
 * even by SIGKILL, or cut off from Redis).
 *
 * Every key is under the `{usersession-sweeper}` hash tag: one slot, so each
 * script runs on a cluster as on a single Redis.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type { Cluster, Redis } from "ioredis";
import type { Logger } from "pino";
import { LUA_SOURCES } from "./scripts/lua.generated.js";

export interface SweepLeaseOptions {
  /** One server or a cluster: every key of the leases shares one hash tag. */
  redis: Redis | Cluster;
  /** session-core's prefix, so the leases live beside the data they guard. */
  prefix: string;
  /** How many slot groups, hence leases (SWEEP_SLOT_GROUPS); every replica must use the same number. */
  groups: number;
  leaseMs: number;
  logger: Logger;
  /** Called with true when this replica starts holding some group's lease, false when it holds none any more. */
  onChange?: (held: boolean) => void;
  /** Who this replica is, in the sweep marks; `<host>:<pid>` when unset. */
  holder?: string;
}

/** A group's sweep that started and never cleared its mark. */
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

/** A lease script, embedded at build time (scripts/lua.generated.ts): nothing is read from disk at run time. */
function script(file: string): string {
  const lua = LUA_SOURCES[file];
  if (lua === undefined) throw new Error(`${file} is not embedded: build the worker (tools/embed-lua.mjs)`);
  return lua;
}

/** Tick markers only need to outlive a tick's walk on every replica, clock skew included. */
const TICK_MARKER_MS = 10 * 60_000;
/** A sweep mark outlives any sweep by far, and still vanishes by itself. */
const SWEEP_MARK_MS = 24 * 60 * 60_000;

interface Held {
  token: string;
  renewTimer: NodeJS.Timeout;
}

export class SweepLease {
  readonly #redis: (Redis | Cluster) & LeaseCommands;
  readonly #tagPrefix: string;
  readonly #holder: string;
  readonly #options: SweepLeaseOptions;
  readonly #held = new Map<number, Held>();
  /** Tokens of ours whose release did not reach Redis (an outage), by group: released before that group's next acquire. */
  readonly #unreleased = new Map<number, string>();

  constructor(options: SweepLeaseOptions) {
    this.#options = options;
    this.#redis = options.redis as (Redis | Cluster) & LeaseCommands;
    this.#tagPrefix = `${options.prefix}{usersession-sweeper}`;
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

  /** How many slot groups, each with its lease. */
  get groups(): number {
    return this.#options.groups;
  }

  /** This replica's id in the sweep marks. */
  get holder(): string {
    return this.#holder;
  }

  /** True while this replica holds some group's lease. */
  get held(): boolean {
    return this.#held.size > 0;
  }

  /** True while this replica holds `group`'s lease (false once a renewal found it lost). */
  holds(group: number): boolean {
    return this.#held.has(group);
  }

  /** The lease key of a group, `<prefix>{usersession-sweeper}:lease:<group>`. */
  leaseKey(group: number): string {
    return `${this.#tagPrefix}:lease:${group}`;
  }

  /** The sweep mark of a group, `<prefix>{usersession-sweeper}:running:<group>`. */
  markKey(group: number): string {
    return `${this.#tagPrefix}:running:${group}`;
  }

  /**
   * Takes `group`'s lease for `tick`: false when the group was already taken
   * in this tick (by any replica) or its lease is held by a sweep still running.
   */
  async acquire(group: number, tick: string): Promise<boolean> {
    if (this.#held.has(group)) return false;
    await this.#releaseLeftover(group);
    const token = randomUUID();
    const { leaseMs } = this.#options;
    const result = await this.#redis.multisessionAcquireLease(
      this.leaseKey(group),
      `${this.#tagPrefix}:tick:${group}:${tick}`,
      token,
      leaseMs,
      TICK_MARKER_MS,
    );
    if (result !== 1) return false;
    const wasHeld = this.held;
    const renewTimer = setInterval(() => void this.#renew(group, token), Math.max(100, Math.floor(leaseMs / 3)));
    this.#held.set(group, { token, renewTimer });
    if (!wasHeld) this.#options.onChange?.(true);
    return true;
  }

  /** Marks this holder's sweep of `group` as started; returns the previous sweep's mark if it was left behind. */
  async markSweepStart(group: number): Promise<UnfinishedSweep | null> {
    const token = this.#held.get(group)?.token;
    if (!token) return null;
    const [holder, startedAt] = await this.#redis.multisessionMarkSweepStart(
      this.markKey(group),
      this.#holder,
      token,
      SWEEP_MARK_MS,
    );
    return holder === undefined ? null : { holder, startedAt: new Date(Number(startedAt)) };
  }

  /** Clears this holder's mark on `group` (call before `release`, while the token is known). */
  async clearSweepMark(group: number): Promise<void> {
    const token = this.#held.get(group)?.token;
    if (token) await this.#redis.multisessionClearSweepMark(this.markKey(group), token);
  }

  /** Gives `group`'s lease back; if Redis does not take it, it is sent again before this group's next acquire. */
  async release(group: number): Promise<void> {
    const token = this.#held.get(group)?.token;
    this.#drop(group);
    if (!token) return;
    try {
      await this.#redis.multisessionReleaseLease(this.leaseKey(group), token);
    } catch (error) {
      this.#unreleased.set(group, token);
      throw error;
    }
  }

  /** Gives back every lease this replica holds (at shutdown). */
  async releaseAll(): Promise<void> {
    await Promise.all([...this.#held.keys()].map((group) => this.release(group)));
  }

  /**
   * Our own lease, left in Redis when its release failed, would otherwise keep
   * every replica, this one included, from sweeping that group until it
   * expired. The release script only deletes a lease that still holds our token.
   */
  async #releaseLeftover(group: number): Promise<void> {
    const token = this.#unreleased.get(group);
    if (!token) return;
    try {
      await this.#redis.multisessionReleaseLease(this.leaseKey(group), token);
      this.#unreleased.delete(group);
    } catch (error) {
      this.#options.logger.debug({ err: error, group }, "earlier sweep lease still not released");
    }
  }

  async #renew(group: number, token: string): Promise<void> {
    if (this.#held.get(group)?.token !== token) return;
    try {
      if ((await this.#redis.multisessionRenewLease(this.leaseKey(group), token, this.#options.leaseMs)) === 0) {
        if (this.#held.get(group)?.token !== token) return; // released meanwhile
        this.#options.logger.warn({ group }, "sweep lease lost; this group's sweep stops after its current step");
        this.#drop(group);
      }
    } catch (error) {
      this.#options.logger.warn({ err: error, group }, "sweep lease renewal failed; will retry");
    }
  }

  #drop(group: number): void {
    const held = this.#held.get(group);
    if (!held) return;
    clearInterval(held.renewTimer);
    this.#held.delete(group);
    if (!this.held) this.#options.onChange?.(false);
  }
}
