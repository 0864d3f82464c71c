/**
 * lost-reply: Redis runs a write but its reply never reaches the client (a
 * proxy drops it and cuts the connection: @multisession/redis-server's
 * fault proxy). Each round sets a user up straight on Redis, arms the proxy
 * for that user's next script call, makes one call through the proxy
 * (create, remove, revoke or removeAll) and reads Redis directly for the
 * truth. The call must either return the true outcome or fail with
 * SessionOutcomeUnknownError; anything else is a wrong answer (a logout that
 * says "not there" for a session it removed, a create that fails although
 * its session is stored). Then every invariant.
 */
import { startRedisFaultProxy } from "@multisession/redis-server";
import {
  DEFAULTS,
  SessionError,
  SessionOutcomeUnknownError,
  type SessionStore,
  sessionKeyOf,
  userKey,
} from "@multisession/session-core";
import { type CallRecord, summarise } from "../figures.js";
import { checkInvariants, type Violation } from "../invariants.js";
import { Ledger } from "../ledger.js";
import type { ScenarioContext, ScenarioResult } from "../scenario.js";
import { connectDirect, connectLibrary, FaultyRedis, namespaceFor, waitFor } from "../stack.js";

export const LOST_REPLY_SIZES = {
  short: { rounds: 5 },
  long: { rounds: 50 },
};

const OPERATIONS = ["create", "remove", "revoke", "removeAll"] as const;
type Operation = (typeof OPERATIONS)[number];

/** How the call ended, next to what Redis holds afterwards. */
type Verdict = "true outcome" | "outcome unknown" | "wrong answer";

const FAULT_LIMIT_MS = 5_000;

export async function lostReply(context: ScenarioContext): Promise<ScenarioResult> {
  const { rounds } = LOST_REPLY_SIZES[context.form];
  const started = performance.now();
  const namespace = namespaceFor("lost-reply");
  const redis = await FaultyRedis.start();
  const proxy = await startRedisFaultProxy({ host: redis.host, port: redis.port });
  // The store under test talks through the proxy; its queue, the setup store and the truth go straight to Redis.
  const client = connectLibrary(proxy.url, namespace, {}, redis.url);
  const setup = connectLibrary(redis.url, namespace);
  const direct = connectDirect(redis.url);
  const ledger = new Ledger();
  const calls: CallRecord[] = [];
  const violations: Violation[] = [];
  const verdicts = new Map<Operation, Record<Verdict, number>>();
  const recoveryMs: number[] = [];
  let faults = 0;
  let setupOperations = 0;
  const readyAt: number[] = [];
  client.redis.on("ready", () => readyAt.push(performance.now()));

  try {
    // Every script the rounds use is cached on Redis first, so the swallowed reply is the script's own, not NOSCRIPT.
    await warmScripts(client.store);

    for (let round = 1; round <= rounds; round++) {
      for (const operation of OPERATIONS) {
        const userId = `lost-${operation}-${round}`;
        const key = userKey(namespace.sessionPrefix, userId);
        const a = await setup.store.create(userId);
        const b = await setup.store.create(userId);
        setupOperations += 2;
        ledger.created(userId, sessionKeyOf(a.sessionId), a.session.expiresAt);
        ledger.created(userId, sessionKeyOf(b.sessionId), b.session.expiresAt);
        await waitFor(() => client.redis.status === "ready", FAULT_LIMIT_MS, 5);

        let firedAt = 0;
        const fault = proxy
          .swallowNextReply((args) => (args[0] === "EVALSHA" || args[0] === "EVAL") && args.includes(key))
          .then(() => {
            firedAt = performance.now();
          });
        const callStarted = performance.now();
        let value: unknown;
        let error: unknown;
        try {
          if (operation === "create") value = await client.store.create(userId);
          else if (operation === "remove") value = await client.store.remove(userId, a.sessionId);
          else if (operation === "revoke") value = await client.store.revoke(userId, b.session.handle);
          else value = await client.store.removeAll(userId);
        } catch (caught) {
          error = caught;
        }
        calls.push({
          client: "library",
          operation,
          startedAt: callStarted,
          endedAt: performance.now(),
          ok: error === undefined,
          ...(error instanceof SessionError ? { code: error.code } : {}),
        });
        const fired = await Promise.race([
          fault.then(() => true),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), FAULT_LIMIT_MS)),
        ]);
        if (!fired) {
          violations.push({ invariant: "faultInjected", userId, detail: `no reply to ${operation} was lost` });
          // Disarm by sending the matching call once more, so the next round starts clean.
          await client.store.list(userId).catch(() => {});
          continue;
        }
        faults++;

        const fields = Object.keys(await direct.hgetall(key)).filter((field) => !field.startsWith("#"));
        const has = (sessionId: string) => fields.includes(sessionKeyOf(sessionId));
        const verdict = judge(operation, value, error, { fields, has, a, b });
        tally(verdicts, operation, verdict);
        if (verdict === "wrong answer") {
          violations.push({
            invariant: "noWrongAnswers",
            userId,
            detail:
              `${operation} ${error ? `threw ${describeError(error)}` : `returned ${JSON.stringify(summary(value))}`} ` +
              `with ${fields.length} sessions stored`,
          });
        }
        // The ledger learns what the call acknowledged; unknown outcomes are checked for neither.
        if (operation === "create" && value) {
          const created = value as Awaited<ReturnType<SessionStore["create"]>>;
          ledger.created(userId, sessionKeyOf(created.sessionId), created.session.expiresAt);
        } else if (operation === "remove") {
          if (error) ledger.uncertain(userId, sessionKeyOf(a.sessionId));
          else ledger.removed(userId, sessionKeyOf(a.sessionId));
        } else if (operation === "revoke") {
          if (error) ledger.uncertain(userId, sessionKeyOf(b.sessionId));
          else ledger.removed(userId, sessionKeyOf(b.sessionId));
        } else if (operation === "removeAll") {
          if (error) ledger.uncertainAll(userId);
          else ledger.removedAll(userId);
        }
        await waitFor(() => client.redis.status === "ready", FAULT_LIMIT_MS, 5);
        const reconnectedAt = readyAt.find((at) => at >= firedAt);
        if (reconnectedAt !== undefined) recoveryMs.push(reconnectedAt - firedAt);
      }
      if (round % 10 === 0 || round === rounds) context.log(`lost-reply: ${round}/${rounds} rounds`);
    }

    const check = await checkInvariants(direct, {
      prefix: namespace.sessionPrefix,
      ledger,
      maxSessionsPerUser: DEFAULTS.maxSessionsPerUser,
    });
    violations.push(...check.violations);
    const rows = OPERATIONS.map((operation) => {
      const counts = verdicts.get(operation) ?? emptyTally();
      return [operation, counts["true outcome"], counts["outcome unknown"], counts["wrong answer"]];
    });
    return {
      name: "lost-reply",
      title: "A reply lost after Redis ran the command (a proxy drops it and cuts the connection)",
      form: context.form,
      durationMs: performance.now() - started,
      operations: calls.length + setupOperations,
      faults: { count: faults, what: "lost reply" },
      checked: {
        liveSessions: check.liveChecked,
        removals: check.removalsChecked,
        other: `${faults} answers checked against Redis`,
      },
      violations,
      incident: summarise(calls),
      recoveryMs,
      table: { header: ["operation", "true outcome", "outcome unknown (typed)", "wrong answer"], rows },
      notes: [
        `${rounds} rounds of ${OPERATIONS.join(", ")}, each on a user holding two sessions, with the reply to its ` +
          "script dropped and the connection cut; the truth read straight from Redis.",
        "Latency is that of the faulted calls (a call whose connection dropped waits out the command timeout); " +
          "recovery is from the reply being dropped to the store's connection being ready again.",
      ],
    };
  } finally {
    await Promise.all([client.close(), setup.close()]);
    direct.disconnect();
    await proxy.close();
    await redis.stop();
  }
}

interface Truth {
  fields: string[];
  has(sessionId: string): boolean;
  a: { sessionId: string };
  b: { sessionId: string };
}

/**
 * Whether the call's answer is the truth. A typed "outcome unknown" is
 * always acceptable; any other failure is right only if nothing happened.
 */
export function judge(operation: Operation, value: unknown, error: unknown, truth: Truth): Verdict {
  if (error instanceof SessionOutcomeUnknownError) return "outcome unknown";
  const { fields, has, a, b } = truth;
  switch (operation) {
    case "create": {
      if (error) return fields.length === 2 ? "true outcome" : "wrong answer";
      const { sessionId } = value as { sessionId: string };
      return has(sessionId) && fields.length === 3 ? "true outcome" : "wrong answer";
    }
    case "remove":
      if (error) return has(a.sessionId) ? "true outcome" : "wrong answer";
      return value === true && !has(a.sessionId) ? "true outcome" : "wrong answer";
    case "revoke":
      if (error) return has(b.sessionId) ? "true outcome" : "wrong answer";
      return value === true && !has(b.sessionId) ? "true outcome" : "wrong answer";
    case "removeAll":
      if (error) return fields.length === 2 ? "true outcome" : "wrong answer";
      return value === 2 && fields.length === 0 ? "true outcome" : "wrong answer";
  }
}

async function warmScripts(store: SessionStore): Promise<void> {
  const one = await store.create("lost-warm-up");
  const other = await store.create("lost-warm-up");
  await store.revoke("lost-warm-up", one.session.handle);
  await store.remove("lost-warm-up", other.sessionId);
  await store.removeAll("lost-warm-up");
}

function emptyTally(): Record<Verdict, number> {
  return { "true outcome": 0, "outcome unknown": 0, "wrong answer": 0 };
}

function tally(verdicts: Map<Operation, Record<Verdict, number>>, operation: Operation, verdict: Verdict): void {
  const counts = verdicts.get(operation) ?? emptyTally();
  counts[verdict]++;
  verdicts.set(operation, counts);
}

function summary(value: unknown): unknown {
  return value !== null && typeof value === "object" && "session" in value ? "a session" : value;
}

function describeError(error: unknown): string {
  return error instanceof SessionError ? error.code : error instanceof Error ? error.name : String(error);
}
