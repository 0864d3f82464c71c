/**
 * Loads the Lua scripts beside this file and registers them on an ioredis
 * client with `defineCommand`, so they run by EVALSHA (ioredis falls back to
 * EVAL once after a NOSCRIPT, e.g. after a Redis restart).
 *
 * Files are named `<name>-<numberOfKeys>.lua`, as in BullMQ. A line
 * `--- @include "x"` is replaced by `includes/x.lua`. Each script is
 * registered under a name carrying a hash of its source, so two releases of
 * session-core sharing one client (or one Redis) never run each other's code.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Cluster, Redis } from "ioredis";

const SCRIPT_FILES = {
  createSession: "create-session-1.lua",
  readSession: "read-session-1.lua",
  listSessions: "list-sessions-1.lua",
  removeSession: "remove-session-1.lua",
  revokeSession: "revoke-session-1.lua",
  removeOtherSessions: "remove-other-sessions-1.lua",
  removeAllSessions: "remove-all-sessions-1.lua",
  setUserInfo: "set-user-info-1.lua",
  deleteExpiredSession: "delete-expired-session-1.lua",
  cleanUser: "clean-user-1.lua",
  claimDueUsers: "claim-due-users-1.lua",
} as const;

export type ScriptName = keyof typeof SCRIPT_FILES;

interface LoadedScript {
  command: string;
  numberOfKeys: number;
  lua: string;
}

/** Status codes the scripts return first; negative ones map to errors in `store.ts`. */
export const SCRIPT_STATUS = Object.freeze({
  OK: 0,
  NOT_FOUND: -1,
  EXPIRED: -2,
  LIMIT: -3,
  CORRUPT: -4,
  COLLISION: -5,
});

let loaded: Record<ScriptName, LoadedScript> | undefined;

function readLua(relative: string): string {
  return readFileSync(new URL(relative, import.meta.url), "utf8");
}

export function loadScripts(): Record<ScriptName, LoadedScript> {
  if (loaded) return loaded;
  const scripts = {} as Record<ScriptName, LoadedScript>;
  for (const [name, file] of Object.entries(SCRIPT_FILES) as [ScriptName, string][]) {
    const lua = readLua(`./${file}`).replace(/^--- @include "([a-z-]+)"[ \t]*$/gm, (_, include: string) =>
      readLua(`./includes/${include}.lua`),
    );
    const numberOfKeys = Number(/-(\d+)\.lua$/.exec(file)?.[1]);
    const version = createHash("sha1").update(lua).digest("hex").slice(0, 10);
    scripts[name] = { command: `multisession_${name}_${version}`, numberOfKeys, lua };
  }
  loaded = scripts;
  return scripts;
}

export type ScriptRunner = (name: ScriptName, ...keysThenArgs: (string | number)[]) => Promise<unknown>;

/** Defines every script on `redis` (once per client) and returns a function that runs them by name. */
export function registerScripts(redis: Redis | Cluster): ScriptRunner {
  const scripts = loadScripts();
  const client = redis as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>;
  const commands = {} as Record<ScriptName, (...args: (string | number)[]) => Promise<unknown>>;
  for (const [name, script] of Object.entries(scripts) as [ScriptName, LoadedScript][]) {
    if (typeof client[script.command] !== "function") {
      redis.defineCommand(script.command, { numberOfKeys: script.numberOfKeys, lua: script.lua });
    }
    commands[name] = (client[script.command] as (...args: (string | number)[]) => Promise<unknown>).bind(redis);
  }
  return (name, ...keysThenArgs) => commands[name](...keysThenArgs);
}
