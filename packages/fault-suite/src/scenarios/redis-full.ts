/**
 * redis-full: Redis at its `maxmemory` (noeviction, as production runs it)
 * under the worker and the demo API. Existing sessions are created first;
 * then filler keys take every byte left, and the limit is set a little
 * below what is used (as the out-of-memory test in session-core does), so
 * that every call meets a full server. While full: creates (library and
 * HTTP logins) must be refused with the typed backend error (Redis's OOM as
 * cause) and write nothing; every existing session must keep authenticating
 * (reads are due for renewal: touchIntervalMs 1); logouts must work; memory
 * must not grow. Then the fillers are deleted and creates must succeed again.
 * Then every invariant.
 */
import {
  type CreatedSession,
  DEFAULTS,
  parseToken,
  SessionBackendError,
  SessionError,
  SessionOutcomeUnknownError,
  sessionKeyOf,
} from "@multisession/session-core";
import { type CallRecord, summarise } from "../figures.js";
import { checkInvariants, type Violation } from "../invariants.js";
import { Ledger } from "../ledger.js";
import type { ScenarioContext, ScenarioResult } from "../scenario.js";
import {
  connectDirect,
  connectLibrary,
  FaultyRedis,
  httpStatus,
  isRunning,
  namespaceFor,
  sleep,
  startApps,
  waitFor,
} from "../stack.js";

export const REDIS_FULL_SIZES = {
  short: { librarySessions: 150, httpSessions: 20, refusedCreates: 100, refusedLogins: 20 },
  long: { librarySessions: 2_000, httpSessions: 200, refusedCreates: 2_000, refusedLogins: 300 },
};

const FILLER = "f".repeat(8 * 1024);
const ROOM_BYTES = 1024 * 1024;
/** maxmemory is set this far below what is used once full, so every call meets a full server (see the header). */
const MARGIN_BYTES = 128 * 1024;
/**
 * How far used_memory may move once full: clients' buffers (the apps' and
 * BullMQ's connections too) move by some KB between calls; a create let
 * through would add a session each time, over a KB here.
 */
const SLACK_BYTES = 256 * 1024;
const DATA = { note: "d".repeat(1000) };

export async function redisFull(context: ScenarioContext): Promise<ScenarioResult> {
  const size = REDIS_FULL_SIZES[context.form];
  const started = performance.now();
  const namespace = namespaceFor("redis-full");
  const redis = await FaultyRedis.start();
  const [worker, api] = await startApps(redis, namespace);
  // Every read of an existing session is due for its renewal write, which a full Redis refuses.
  const library = connectLibrary(redis.url, namespace, { touchIntervalMs: 1 });
  const direct = connectDirect(redis.url);
  const ledger = new Ledger();
  const calls: CallRecord[] = [];
  const violations: Violation[] = [];
  const flag = (invariant: string, userId: string, detail: string) => violations.push({ invariant, userId, detail });
  const timed = async <T>(client: CallRecord["client"], operation: string, call: () => Promise<T>) => {
    const startedAt = performance.now();
    try {
      const value = await call();
      calls.push({ client, operation, startedAt, endedAt: performance.now(), ok: true });
      return { value, error: undefined };
    } catch (error) {
      const code = error instanceof SessionError ? error.code : "UNTYPED";
      calls.push({ client, operation, startedAt, endedAt: performance.now(), ok: false, code });
      return { value: undefined, error };
    }
  };
  const http = async (method: string, path: string, token?: string, body?: unknown) => {
    const startedAt = performance.now();
    const response = await fetch(api.url(path), {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await response.text();
    const json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    const code = (json.error as { code?: string } | undefined)?.code;
    const ok = response.status < 300;
    calls.push({ client: "http", operation: `${method} ${path}`, startedAt, endedAt: performance.now(), ok, code });
    return { status: response.status, json, code };
  };
  const usedMemory = async () => Number(/^used_memory:(\d+)/m.exec(await direct.info("memory"))?.[1]);

  try {
    // Sessions that exist before Redis fills up.
    const existing: { userId: string; created: CreatedSession }[] = [];
    for (let i = 0; i < size.librarySessions; i++) {
      const userId = `full-lib-${i}`;
      const created = await library.store.create(userId, { data: DATA });
      ledger.created(userId, sessionKeyOf(created.sessionId), created.session.expiresAt);
      existing.push({ userId, created });
    }
    const logins: { userId: string; token: string; sessionKey: string }[] = [];
    for (let i = 0; i < size.httpSessions; i++) {
      const userId = `full-http-${i}`;
      const answer = await http("POST", "/auth/login", undefined, { userId, password: "demo", deviceName: "http" });
      if (answer.status !== 200) throw new Error(`login before the fill answered ${answer.status}`);
      const token = answer.json.token as string;
      const sessionKey = sessionKeyOf(parseToken(token).sessionId);
      ledger.created(userId, sessionKey, (answer.json.session as { expiresAt: number }).expiresAt);
      logins.push({ userId, token, sessionKey });
    }
    // Every script runs once before the limit: Redis takes memory for each the first time, full or not.
    await warmUp(library.store);

    await direct.config("SET", "maxmemory", String((await usedMemory()) + ROOM_BYTES));
    let fillers = 0;
    for (;;) {
      try {
        await direct.set(`${namespace.sessionPrefix}filler:${fillers}`, FILLER);
        fillers++;
      } catch (error) {
        if (!/^OOM /.test((error as Error).message)) throw error;
        break;
      }
    }
    await sleep(300);
    const full = await usedMemory();
    const limit = full - MARGIN_BYTES;
    await direct.config("SET", "maxmemory", String(limit));
    const ceiling = full + SLACK_BYTES;
    let peak = full;
    const sample = async () => {
      peak = Math.max(peak, await usedMemory());
    };
    context.log(`redis-full: full after ${fillers} fillers of 8 KB; maxmemory ${limit} bytes`);
    const fullFrom = performance.now();

    // Creates are refused with the typed error, and write nothing.
    let refused = 0;
    for (let i = 0; i < size.refusedCreates; i++) {
      const userId = i % 2 === 0 ? `full-new-${i}` : (existing[i % existing.length]?.userId as string);
      const { error } = await timed("library", "create", () => library.store.create(userId, { data: DATA }));
      if (
        error instanceof SessionBackendError &&
        !(error instanceof SessionOutcomeUnknownError) &&
        /OOM/.test(error.message)
      ) {
        refused++;
      } else {
        flag("createsRefusedWhenFull", userId, error ? `failed with ${String(error)}` : "a create succeeded");
      }
      if (i % 20 === 0) await sample();
    }
    for (let i = 0; i < size.refusedLogins; i++) {
      const userId = `full-http-new-${i}`;
      const answer = await http("POST", "/auth/login", undefined, { userId, password: "demo" });
      if (answer.status === 503 && answer.code === "ERR_SESSION_BACKEND") refused++;
      else flag("createsRefusedWhenFull", userId, `login answered ${answer.status} ${answer.code ?? ""}`);
    }
    await sample();

    // Every existing session keeps authenticating (its renewal refused, served unrenewed).
    let served = 0;
    for (const { userId, created } of existing) {
      const { error } = await timed("library", "authenticate", () => library.store.authenticate(created.token));
      if (error) flag("existingSessionsServedWhenFull", userId, String(error));
      else served++;
    }
    for (const { userId, token } of logins) {
      const answer = await http("GET", "/me", token);
      if (answer.status === 200) served++;
      else flag("existingSessionsServedWhenFull", userId, `GET /me answered ${answer.status} ${answer.code ?? ""}`);
    }
    await sample();

    // Logouts work (and free memory): a third of the library users, a quarter of the HTTP ones.
    let loggedOut = 0;
    for (const [i, { userId, created }] of existing.entries()) {
      if (i % 3 !== 0) continue;
      const kind = (i / 3) % 3;
      const { value, error } = await timed(
        "library",
        ["remove", "revoke", "removeAll"][kind] as string,
        (): Promise<boolean | number> =>
          kind === 0
            ? library.store.remove(userId, created.sessionId)
            : kind === 1
              ? library.store.revoke(userId, created.session.handle)
              : library.store.removeAll(userId),
      );
      if (error || (value !== true && value !== 1)) {
        ledger.uncertain(userId, sessionKeyOf(created.sessionId));
        flag("logoutsWorkWhenFull", userId, error ? String(error) : `answered ${String(value)}`);
      } else {
        ledger.removed(userId, sessionKeyOf(created.sessionId));
        loggedOut++;
      }
    }
    for (const [i, { userId, token, sessionKey }] of logins.entries()) {
      if (i % 4 !== 0) continue;
      const answer = await http("POST", "/auth/logout", token);
      if (answer.status === 204) {
        ledger.removed(userId, sessionKey);
        loggedOut++;
      } else {
        ledger.uncertain(userId, sessionKey);
        flag("logoutsWorkWhenFull", userId, `logout answered ${answer.status} ${answer.code ?? ""}`);
      }
    }
    await sample();
    if (peak > ceiling) flag("memoryNotPastLimit", "-", `used_memory reached ${peak}, ${peak - full} bytes past full`);
    const fullCalls = calls.filter((call) => call.startedAt >= fullFrom);

    // Memory freed: the invariants on what the full phase left (the snapshot reads in MULTI, which a full
    // Redis refuses), then creates and logins must succeed again.
    const fillerKeys = Array.from({ length: fillers }, (_, i) => `${namespace.sessionPrefix}filler:${i}`);
    for (let i = 0; i < fillerKeys.length; i += 500) await direct.unlink(...fillerKeys.slice(i, i + 500));
    const check = await checkInvariants(direct, {
      prefix: namespace.sessionPrefix,
      ledger,
      maxSessionsPerUser: DEFAULTS.maxSessionsPerUser,
    });
    violations.push(...check.violations);
    const checkedAt = performance.now();
    let libraryBackAt = 0;
    let httpBackAt = 0;
    await waitFor(
      async () => {
        if (!libraryBackAt) {
          const { value } = await timed("library", "create", () => library.store.create("full-after"));
          if (value) {
            ledger.created("full-after", sessionKeyOf(value.sessionId), value.session.expiresAt);
            libraryBackAt = performance.now();
          }
        }
        if (!httpBackAt) {
          const answer = await http("POST", "/auth/login", undefined, { userId: "full-after-http", password: "demo" });
          if (answer.status === 200) httpBackAt = performance.now();
        }
        return libraryBackAt > 0 && httpBackAt > 0;
      },
      10_000,
      20,
    );
    if (!libraryBackAt || !httpBackAt)
      flag("recoversWhenFreed", "-", "creates still refused 10 s after freeing memory");
    const appsReady =
      isRunning(worker) &&
      isRunning(api) &&
      (await httpStatus(worker.url("/readyz"))) === 200 &&
      (await httpStatus(api.url("/readyz"))) === 200;
    if (!appsReady) flag("appsRecoverByThemselves", "-", "an app is not ready after memory was freed");
    const recoveryMs = [libraryBackAt, httpBackAt].filter((at) => at > 0).map((at) => at - checkedAt);
    context.log(`redis-full: ${refused} creates refused, ${served} sessions served, ${loggedOut} logouts`);

    return {
      name: "redis-full",
      title: "Redis at its maxmemory (noeviction) under the worker and the demo API",
      form: context.form,
      durationMs: performance.now() - started,
      operations: calls.length,
      faults: { count: 1, what: `Redis filled to maxmemory (${fillers} fillers of 8 KB)` },
      checked: {
        liveSessions: check.liveChecked,
        removals: check.removalsChecked,
        other: `${refused} refused creates checked typed, ${served} existing sessions served`,
      },
      violations,
      incident: summarise(fullCalls),
      recoveryMs,
      table: {
        header: ["while full", "attempted", "as required"],
        rows: [
          ["creates refused with ERR_SESSION_BACKEND (OOM)", size.refusedCreates + size.refusedLogins, refused],
          ["existing sessions authenticated (renewal refused)", existing.length + logins.length, served],
          [
            "logouts (remove, revoke, removeAll, HTTP logout)",
            Math.ceil(existing.length / 3) + Math.ceil(logins.length / 4),
            loggedOut,
          ],
        ],
      },
      notes: [
        `maxmemory set ${MARGIN_BYTES / 1024} KB below used_memory once full; used_memory peaked ` +
          `${Math.max(0, peak - full)} bytes above its level when full (allowed: ${SLACK_BYTES / 1024} KB of client buffers).`,
        "Recovery is from memory being freed (fillers deleted, invariants read) to the first successful create " +
          "(library) and login (HTTP).",
      ],
    };
  } finally {
    await library.close();
    direct.disconnect();
    await Promise.all([worker.stop(), api.stop()]);
    await redis.stop();
  }
}

/** Runs each script the scenario uses once, on a user of its own that is gone again afterwards. */
async function warmUp(store: ReturnType<typeof connectLibrary>["store"]): Promise<void> {
  const one = await store.create("full-warm-up");
  const other = await store.create("full-warm-up");
  await sleep(5);
  await store.authenticate(one.token);
  await store.revoke("full-warm-up", other.session.handle);
  await store.remove("full-warm-up", one.sessionId);
  await store.removeAll("full-warm-up");
}
