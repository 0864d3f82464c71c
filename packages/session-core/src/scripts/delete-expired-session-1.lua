#!lua flags=allow-oom
--[[
  The cleanup job's operation: deletes one session only if it is still
  expired (or corrupt) now. A late, retried or duplicated job therefore never
  deletes a live session.

  Out of memory: runs (allow-oom): it only deletes, so cleanup keeps freeing memory.

  Input:
    KEYS[1] the user's hash
    ARGV[1] session key

  Output: { 0, deletedSession (0|1), deletedHash (0|1) }
]]
local key = KEYS[1]

--- @include "record"

local value = redis.call('HGET', key, ARGV[1])
if not value then return { 0, 0, 0 } end
if liveExpiryOf(value, nowMs()) then return { 0, 0, 0 } end
redis.call('HDEL', key, ARGV[1])
return { 0, 1, deleteIfNoSessions(key) }
