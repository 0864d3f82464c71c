/**
 * Loads the Lua scripts beside this file (embedded at build time in
 * lua.generated.ts by tools/embed-lua.mjs, so nothing is read from disk at
 * run time and a bundled server carries them) and runs them by EVALSHA. A Redis
 * that does not have a script cached (a fresh or restarted server, a new
 * cluster node) answers NOSCRIPT; the runner then sends the source once with
 * EVAL, which caches it, and goes on by SHA. The SHA is of the source, so two
 * releases of session-core sharing one Redis never run each other's code.
 *
 * Calling EVALSHA directly rather than through ioredis's `defineCommand`
 * saves its per-call wrapper (a closure, a WeakSet lookup and a promise
 * chain): about a tenth of the client's CPU per script call, and these calls
 * are the store's hot path.
 *
 * Files are named `<name>-<numberOfKeys>.lua`, as in BullMQ, or
 * `<name>-n.lua` when the caller passes any number of keys. A line
 * `--- @include "x"` is replaced by `includes/x.lua` when they are embedded.
 *
 * Every script opens with a flags line (Redis 7.0+), checked here: `#!lua`
 * for a script that may grow memory, which a full Redis (used_memory past
 * maxmemory) then refuses as a whole before it runs; `#!lua flags=allow-oom`
 * for one that only deletes or shrinks, so logouts and cleanup keep freeing
 * memory; `#!lua flags=no-writes` for a pure read. Each script's header says
 * which and why.
 */
import { createHash } from "node:crypto";
import type { Cluster, Redis } from "ioredis";
import { LUA_SOURCES } from "./lua.generated.js";

const SCRIPT_FILES = {
  createSession: "create-session-2.lua",
  readSession: "read-session-1.lua",
  readSessionUnrenewed: "read-session-unrenewed-1.lua",
  listSessions: "list-sessions-1.lua",
  removeSession: "remove-session-1.lua",
  revokeSession: "revoke-session-1.lua",
  removeOtherSessions: "remove-other-sessions-1.lua",
  removeAllSessions: "remove-all-sessions-1.lua",
  setUserInfo: "set-user-info-1.lua",
  updateUserInfo: "update-user-info-1.lua",
  getUserInfo: "get-user-info-1.lua",
  updateData: "update-data-1.lua",
  rotateSession: "rotate-session-1.lua",
  deleteExpiredSession: "delete-expired-session-1.lua",
  sweepShard: "sweep-shard-1.lua",
  drainLegacyActivity: "drain-legacy-activity-1.lua",
  addToShard: "add-to-shard-1.lua",
} as const;

export type ScriptName = keyof typeof SCRIPT_FILES;

interface LoadedScript {
  sha: string;
  /** Fixed by the file name; null for `-n` scripts, whose callers pass the keys they have. */
  numberOfKeys: number | null;
  lua: string;
}

export { asScriptReply, errorOfStatus, SCRIPT_STATUS, type ScriptReply, unexpectedReply } from "./status.js";

let loaded: Record<ScriptName, LoadedScript> | undefined;

export function loadScripts(): Record<ScriptName, LoadedScript> {
  if (loaded) return loaded;
  const scripts = {} as Record<ScriptName, LoadedScript>;
  for (const [name, file] of Object.entries(SCRIPT_FILES) as [ScriptName, string][]) {
    const lua = LUA_SOURCES[file];
    if (lua === undefined) throw new Error(`${file} is not embedded: build session-core (tools/embed-lua.mjs)`);
    // Redis reads the flags from the first line only, so the includes (and anything else) go below it.
    if (!/^#!lua(?: flags=[a-z-]+(?:,[a-z-]+)*)?\n/.test(lua)) {
      throw new Error(`${file} must open with its #!lua flags line`);
    }
    const count = /-(\d+|n)\.lua$/.exec(file)?.[1];
    const sha = createHash("sha1").update(lua).digest("hex");
    scripts[name] = { sha, numberOfKeys: count === "n" ? null : Number(count), lua };
  }
  loaded = scripts;
  return scripts;
}

/** Runs a script by name with its keys, then its arguments. */
export type ScriptRunner = (
  name: ScriptName,
  keys: readonly string[],
  args: readonly (string | number)[],
) => Promise<unknown>;

/**
 * Redis's reply to EVALSHA for a script it does not have: "NOSCRIPT No matching script…". Looked for
 * anywhere in the message, not only at its start: an ioredis Cluster that ran out of redirections
 * (after a failover, a resharding) rejects with "Too many Cluster redirections. Last error:
 * ReplyError: NOSCRIPT …", and the script must still be sent. The whole phrase, so that no other
 * error that merely mentions the word sends a call a second time.
 */
const NOSCRIPT_REPLY = /(?:^|[\s:])NOSCRIPT No matching script/;

function isNoScript(error: unknown): boolean {
  return error instanceof Error && NOSCRIPT_REPLY.test(error.message);
}

/** Redis refused the call as a whole because used_memory is past maxmemory (a script without allow-oom). */
export function isOutOfMemory(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("OOM ");
}

/** A runner for `redis` (a single server or a Cluster, which routes each call by its keys). */
export function scriptRunner(redis: Redis | Cluster): ScriptRunner {
  const scripts = loadScripts();
  return (name, keys, args) => {
    const script = scripts[name];
    if (script.numberOfKeys !== null && keys.length !== script.numberOfKeys) {
      return Promise.reject(new Error(`script ${name} takes ${script.numberOfKeys} keys (given ${keys.length})`));
    }
    return redis.evalsha(script.sha, keys.length, ...keys, ...args).catch((error: unknown) => {
      if (!isNoScript(error)) throw error;
      return redis.eval(script.lua, keys.length, ...keys, ...args);
    });
  };
}
