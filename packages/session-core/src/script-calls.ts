/**
 * How SessionStore calls Redis: every script one way, and every failure
 * turned into the error its kind of call warrants, so that a caller can tell
 * "did not happen" (SessionBackendError) from "may have happened"
 * (SessionOutcomeUnknownError), and an idempotent write is sent a second
 * time rather than reported unknown.
 *
 * Logouts and rotations go through `revocation`: with durableRevocations on,
 * on the durable writer's own connections followed by WAIT, reporting a write
 * fewer replicas acknowledged than required with RevocationNotReplicatedError.
 */
import type { Cluster, Redis } from "ioredis";
import { DurableWriter, NotSentError } from "./durable-revocations.js";
import { RevocationNotReplicatedError, SessionBackendError, SessionOutcomeUnknownError } from "./errors.js";
import type { DurableRevocations, SessionLogger } from "./options.js";
import { asScriptReply, type ScriptName, type ScriptReply, type ScriptRunner, scriptRunner } from "./scripts/index.js";

/**
 * How a script call is treated when no answer comes back. A `read` fails
 * with SessionBackendError. A `write` may have been carried out already, so
 * it fails with SessionOutcomeUnknownError. An `idempotent` write is sent
 * once more: a second run answers truly for what the first did (create
 * finds its own record, setUserInfo writes the same value).
 */
export type CallKind = "read" | "write" | "idempotent";

/** An error reply from Redis itself (OOM, NOSCRIPT, a script error): the command was refused or failed there. */
function isRedisReply(error: unknown): boolean {
  return error instanceof Error && error.name === "ReplyError";
}

/**
 * How many times each client has become ready, shared by every store on that
 * client (one listener per client, however many stores use it): a call made
 * while the client was not ready, that failed before the count moved, never
 * left the offline queue.
 */
const readyCounts = new WeakMap<Redis | Cluster, { count: number }>();

function readyCountOf(redis: Redis | Cluster): { count: number } {
  let counter = readyCounts.get(redis);
  if (!counter) {
    const created = { count: 0 };
    redis.on("ready", () => created.count++);
    readyCounts.set(redis, created);
    counter = created;
  }
  return counter;
}

export class ScriptCalls {
  readonly #redis: Redis | Cluster;
  readonly #logger: SessionLogger;
  readonly #run: ScriptRunner;
  /** The client's (re)connections so far, to tell a command that never left the offline queue. */
  readonly #connections: { count: number };
  /** With durableRevocations on: runs logouts and rotations on dedicated connections, then WAITs. */
  readonly #durable: DurableWriter | null;
  readonly #required: number;

  constructor(redis: Redis | Cluster, logger: SessionLogger, durableRevocations: DurableRevocations | null) {
    this.#redis = redis;
    this.#logger = logger;
    this.#run = scriptRunner(redis);
    this.#connections = readyCountOf(redis);
    this.#durable = durableRevocations ? new DurableWriter(redis, durableRevocations) : null;
    this.#required = durableRevocations?.replicas ?? 0;
  }

  /** Closes the durable writer's connections, if any. */
  async close(): Promise<void> {
    await this.#durable?.close();
  }

  /** The one way every script is called: run as its kind requires (#runScript), its reply checked status-first. */
  async call(
    operation: string,
    kind: CallKind,
    script: ScriptName,
    keys: readonly string[],
    args: readonly (string | number)[],
    run: ScriptRunner = this.#run,
  ): Promise<ScriptReply> {
    return asScriptReply(operation, await this.#runScript(operation, kind, script, keys, args, run));
  }

  /**
   * A logout or rotation: the script run as `call` does, its reply turned
   * into the method's result by `toResult` (which throws, as for a session
   * that is not live, when nothing was written). With durableRevocations on,
   * the script goes through the durable writer, and a write fewer replicas
   * acknowledged than required is reported with RevocationNotReplicatedError,
   * which carries the result.
   */
  async revocation<T>(
    operation: string,
    kind: CallKind,
    script: ScriptName,
    keys: readonly string[],
    args: readonly (string | number)[],
    toResult: (reply: ScriptReply) => T | Promise<T>,
  ): Promise<T> {
    const durable = this.#durable;
    if (!durable) return toResult(await this.call(operation, kind, script, keys, args));
    let acknowledged = 0;
    const run: ScriptRunner = async (name, scriptKeys, scriptArgs) => {
      const answer = await durable.run(name, scriptKeys, scriptArgs);
      acknowledged = answer.acknowledged;
      return answer.reply;
    };
    const result = await toResult(await this.call(operation, kind, script, keys, args, run));
    if (acknowledged < this.#required) {
      throw new RevocationNotReplicatedError(operation, acknowledged, this.#required, result);
    }
    return result;
  }

  /**
   * Runs a script, turning a failure into the error its kind calls for
   * (CallKind). A command that never left the client (Redis was not
   * connected, and no connection was made before the call failed) was not
   * carried out: a plain SessionBackendError, whatever the kind.
   */
  async #runScript(
    operation: string,
    kind: CallKind,
    script: ScriptName,
    keys: readonly string[],
    args: readonly (string | number)[],
    run: ScriptRunner,
  ): Promise<unknown> {
    const connected = this.#redis.status === "ready";
    const connections = this.#connections.count;
    try {
      return await run(script, keys, args);
    } catch (error) {
      // The store's client tells by its connections; the durable writer says so itself.
      const neverSent =
        error instanceof NotSentError || (run === this.#run && !connected && connections === this.#connections.count);
      if (kind === "read" || isRedisReply(error) || neverSent) throw new SessionBackendError(operation, error);
      if (kind === "write") throw new SessionOutcomeUnknownError(operation, error);
      this.#logger.warn(
        { operation, err: { message: (error as Error).message } },
        "no answer from Redis: sending the call again",
      );
    }
    try {
      return await run(script, keys, args);
    } catch (error) {
      throw new SessionOutcomeUnknownError(operation, error);
    }
  }
}
