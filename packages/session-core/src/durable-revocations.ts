/**
 * Durable revocations: a logout that returns only once replicas have it.
 *
 * Redis replicates asynchronously, so a logout the master has carried out
 * can be missing on the replica that a failover promotes, and the session
 * comes back. `WAIT n timeout` blocks until n replicas acknowledge every
 * write made so far *on the connection that sends it*, so the script and its
 * WAIT must go out on one connection, in that order. This module sends them
 * as one pipeline `[EVALSHA, WAIT]`: on a single Redis that is one
 * connection; on a Cluster, ioredis sends a pipeline to the node that serves
 * its keys' slot, so the WAIT reaches the master that ran the script, never
 * another node (where it would count no write and answer at once).
 *
 * A WAIT blocks its connection for up to `timeoutMs`, and Redis serves a
 * connection's commands in order, so these pipelines never use the store's
 * shared connection, whose other calls would queue behind them. They use
 * dedicated clients made with `redis.duplicate()` (the caller's options,
 * with a command timeout longer by `timeoutMs`), at most
 * DURABLE_CONNECTIONS at once, one pipeline each at a time, so that one slow
 * acknowledgement does not delay other logouts. Each call's WAIT gets what is
 * left of its `timeoutMs`, counted from the call, so calls that queued for a
 * connection do not wait longer in all. The store created the connections and
 * closes them in `close()`.
 */
import type { Cluster, Redis } from "ioredis";
import type { DurableRevocations } from "./options.js";
import { loadScripts, type ScriptName } from "./scripts/index.js";

/** Dedicated clients one store opens at most; further durable calls wait for a free one. */
export const DURABLE_CONNECTIONS = 4;

/** How many times a pipeline whose script did not run (NOSCRIPT, MOVED) is sent again. */
const RESENDS = 2;

export interface DurableReply {
  /** The script's reply. */
  reply: unknown;
  /** How many replicas acknowledged the write within the timeout (0 when the WAIT itself failed). */
  acknowledged: number;
}

/** The call was refused before anything was sent (the store is closed): nothing was carried out. */
export class NotSentError extends Error {
  override name = "NotSentError";
}

type Client = Redis | Cluster;

/** A script reply that says the script never ran: not cached on this node, or the slot is served elsewhere. */
function scriptDidNotRun(error: Error): "noscript" | "moved" | null {
  // Matched anywhere in the message: a client may put words in front of Redis's own.
  if (/\bNOSCRIPT\b/.test(error.message)) return "noscript";
  if (/\bMOVED \d+ /.test(error.message)) return "moved";
  return null;
}

export class DurableWriter {
  readonly #settings: DurableRevocations;
  readonly #open: () => Client;
  readonly #all = new Set<Client>();
  readonly #idle: Client[] = [];
  readonly #waiting: ((client: Client | null) => void)[] = [];
  #closed = false;

  constructor(redis: Client, settings: DurableRevocations) {
    this.#settings = settings;
    // WAIT holds its reply for up to timeoutMs, so the client must wait that much longer for it.
    const longer = (commandTimeout: number | undefined) =>
      commandTimeout === undefined ? undefined : commandTimeout + settings.timeoutMs;
    this.#open = redis.isCluster
      ? () => {
          const cluster = redis as Cluster;
          const commandTimeout = longer(cluster.options.redisOptions?.commandTimeout);
          return cluster.duplicate([], { redisOptions: { commandTimeout } });
        }
      : () => (redis as Redis).duplicate({ commandTimeout: longer((redis as Redis).options.commandTimeout) });
  }

  /** Runs a script, then WAITs on the same connection for the replicas to acknowledge it. */
  async run(name: ScriptName, keys: readonly string[], args: readonly (string | number)[]): Promise<DurableReply> {
    // Counted from the call: a call that waited for a free client, or is resent because its script did not run,
    // waits only for what is left, so a burst of logouts under a lagging replica ends in about timeoutMs, not in
    // one timeoutMs per DURABLE_CONNECTIONS calls.
    const deadline = Date.now() + this.#settings.timeoutMs;
    const client = await this.#acquire();
    try {
      const script = loadScripts()[name];
      let bySource = false;
      for (let attempt = 0; ; attempt++) {
        const pipeline = client.pipeline();
        if (bySource) pipeline.eval(script.lua, keys.length, ...keys, ...args);
        else pipeline.evalsha(script.sha, keys.length, ...keys, ...args);
        // Never 0, which would wait forever.
        pipeline.wait(this.#settings.replicas, Math.max(1, deadline - Date.now()));
        const results = await pipeline.exec();
        if (results?.length !== 2) throw new Error("the pipeline was discarded");
        const [[scriptError, reply], [waitError, acknowledged]] = results as [
          [Error | null, unknown],
          [Error | null, unknown],
        ];
        if (scriptError) {
          const notRun = scriptDidNotRun(scriptError);
          if (notRun === null || attempt >= RESENDS || (notRun === "moved" && !client.isCluster)) throw scriptError;
          if (notRun === "noscript") bySource = true;
          else await refreshSlots(client as Cluster);
          continue;
        }
        return { reply, acknowledged: waitError ? 0 : Number(acknowledged) };
      }
    } finally {
      this.#release(client);
    }
  }

  /** Closes the dedicated clients; calls made afterwards fail with NotSentError. Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const waiter of this.#waiting.splice(0)) waiter(null);
    const clients = [...this.#all];
    this.#all.clear();
    this.#idle.length = 0;
    await Promise.all(clients.map((client) => client.quit().catch(() => client.disconnect())));
  }

  async #acquire(): Promise<Client> {
    if (this.#closed) throw new NotSentError("the store is closed");
    const idle = this.#idle.pop();
    if (idle) return idle;
    if (this.#all.size < DURABLE_CONNECTIONS) {
      const client = this.#open();
      // Failures reach the call that was using the client; the event would only repeat them.
      client.on("error", () => {});
      this.#all.add(client);
      return client;
    }
    const client = await new Promise<Client | null>((resolve) => this.#waiting.push(resolve));
    if (!client) throw new NotSentError("the store is closed");
    return client;
  }

  #release(client: Client): void {
    if (!this.#all.has(client)) return;
    const next = this.#waiting.shift();
    if (next) next(client);
    else this.#idle.push(client);
  }
}

function refreshSlots(cluster: Cluster): Promise<void> {
  return new Promise((resolve) => cluster.refreshSlotsCache(() => resolve()));
}
