#!lua flags=allow-oom
--[[
  The sweeper's step on one activity shard: claims up to ARGV[1] due users
  (scored at or before now), cleans each one on its own, and puts those that
  keep a live session back at their earliest live expiry, all in one atomic
  call. A sweeper that dies between calls leaves no claimed user out of the
  shard, and a login racing the sweep is never lost from it.

  The users' hashes are not in KEYS: they are built from the shard's
  members. Every member's hash is in the shard's own slot by construction
  (src/keys.ts), so the script stays in one slot on a cluster too, which is
  all Redis checks for keys a script did not declare.

  Cleaning one user:
  - no key (it expired away, PEXPIRETIME -2): nothing to delete, nothing to
    put back;
  - a key of another type (a foreign writer sharing the prefix): left as it
    is, not put back, and reported;
  - a hash whose TTL minus the grace is past: the TTL always covers the
    latest-expiring session plus keyGraceMs (coverExpiry), so every session
    in it has expired: deleted whole, without reading its records;
  - otherwise its records are read, and each judged by its header alone
    (cleanHash and parseHeader in includes/record.lua).

  Out of memory: runs (allow-oom): it deletes, and re-adds to the shard only
  members it took off it in the same call, so the sweeper keeps freeing memory.

  Input:
    KEYS[1] the activity shard, <prefix>usersession-activity:{<tag>}
    ARGV[1] how many users at most
    ARGV[2], ARGV[3] what goes before and after a user id in its hash's key
    ARGV[4] keyGraceMs

  Output: { 0, usersClaimed, sessionsDeleted, hashesDeleted, userId1, type1, ... }
  The pairs name the claimed users whose key held another type.
]]
local shard = KEYS[1]
local limit = tonumber(ARGV[1])
local before, after = ARGV[2], ARGV[3]
local graceMs = tonumber(ARGV[4])

--- @include "record"

local now = nowMs()
local due = redis.call('ZRANGE', shard, '-inf', ms(now), 'BYSCORE', 'LIMIT', 0, limit)
if #due == 0 then return { 0, 0, 0, 0 } end
for i = 1, #due, 500 do
  redis.call('ZREM', shard, unpack(due, i, math.min(i + 499, #due)))
end

local sessions, hashes, rescore, wrongTypes = 0, 0, {}, {}
-- No TYPE per user: the commands that need a hash are pcalled, and a refusal asks for the type then.
local function wrongType(i, kind)
  wrongTypes[#wrongTypes + 1] = due[i]
  wrongTypes[#wrongTypes + 1] = kind
end
for i = 1, #due do
  local key = before .. due[i] .. after
  local keyExpiresAt = redis.call('PEXPIRETIME', key)
  if keyExpiresAt > 0 and keyExpiresAt - graceMs <= now then
    local length = redis.pcall('HLEN', key)
    if type(length) == 'table' then
      wrongType(i, redis.call('TYPE', key)['ok'])
    else
      sessions = sessions + length - redis.call('HEXISTS', key, INFO_FIELD)
      redis.call('DEL', key)
      hashes = hashes + 1
    end
  elseif keyExpiresAt ~= -2 then
    local deleted, deletedHash, earliest, kind = cleanHash(key, now)
    if kind then
      wrongType(i, kind)
    else
      sessions = sessions + deleted
      hashes = hashes + deletedHash
      if earliest > 0 then
        rescore[#rescore + 1] = ms(earliest)
        rescore[#rescore + 1] = due[i]
      end
    end
  end
end
for i = 1, #rescore, 1000 do
  redis.call('ZADD', shard, 'LT', unpack(rescore, i, math.min(i + 999, #rescore)))
end
local out = { 0, #due, sessions, hashes }
for i = 1, #wrongTypes do out[4 + i] = wrongTypes[i] end
return out
