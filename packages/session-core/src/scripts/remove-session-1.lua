#!lua flags=allow-oom
--[[
  Removes one session by its session key (log out this device).

  Out of memory: runs (allow-oom): it only deletes, so logouts keep working and free memory.

  Input:
    KEYS[1] the user's hash
    ARGV[1] session key

  Output: { 0, 1 } if the session was there, else { 0, 0 }. The hash goes with its last session.
]]
local key = KEYS[1]

--- @include "record"

local removed = redis.call('HDEL', key, ARGV[1])
if removed == 1 then deleteIfNoSessions(key) end
return { 0, removed }
