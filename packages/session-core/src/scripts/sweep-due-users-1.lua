#!lua flags=allow-oom
--[[
  The sweeper's step on a single Redis: claims up to ARGV[1] due users from
  the activity set, cleans each one on its own (cleanHash), and puts those
  that keep a live session back at their earliest live expiry, all in one
  atomic call. Nothing is sent back and forth per user, and a sweeper that
  dies between calls leaves no claimed user out of the set.

  The users' hashes are not in KEYS: they are found from the set's members.
  That is allowed on a single Redis only (Redis checks a script's keys
  against its slot only in cluster mode, with or without the flags line);
  on a cluster the store claims, cleans and re-adds in separate calls
  instead (store.ts).

  Out of memory: runs (allow-oom): it deletes, and re-adds to the activity set only
  members it took off it in the same call, so the sweeper keeps freeing memory.

  Input:
    KEYS[1] the activity sorted set, <prefix>usersession-activity
    ARGV[1] how many users at most
    ARGV[2], ARGV[3] what goes before and after a user id in its hash's key

  A claimed user whose key holds another type than a hash (a foreign writer
  sharing the prefix) is left as it is, not put back (nothing of ours lives
  there) and reported; the other claimed users are cleaned and put back as
  usual, so no step ever loses a user with a live session.

  Output: { usersCleaned, sessionsDeleted, hashesDeleted, userId1, type1, ... }
  usersCleaned counts every claimed user; the pairs name those whose key held
  another type.
]]
local activity = KEYS[1]
local limit = tonumber(ARGV[1])
local before, after = ARGV[2], ARGV[3]

--- @include "record"

local now = nowMs()
local due = redis.call('ZRANGE', activity, '-inf', ms(now), 'BYSCORE', 'LIMIT', 0, limit)
if #due == 0 then return { 0, 0, 0 } end
for i = 1, #due, 500 do
  redis.call('ZREM', activity, unpack(due, i, math.min(i + 499, #due)))
end

local sessions, hashes, rescore, wrongTypes = 0, 0, {}, {}
for i = 1, #due do
  local deleted, deletedHash, earliest, wrongType = cleanHash(before .. due[i] .. after, now)
  sessions = sessions + deleted
  hashes = hashes + deletedHash
  if wrongType then
    wrongTypes[#wrongTypes + 1] = due[i]
    wrongTypes[#wrongTypes + 1] = wrongType
  elseif earliest > 0 then
    rescore[#rescore + 1] = ms(earliest)
    rescore[#rescore + 1] = due[i]
  end
end
for i = 1, #rescore, 1000 do
  redis.call('ZADD', activity, 'LT', unpack(rescore, i, math.min(i + 999, #rescore)))
end
local out = { #due, sessions, hashes }
for i = 1, #wrongTypes do out[3 + i] = wrongTypes[i] end
return out
