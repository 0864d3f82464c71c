--[[
  The sweeper's operation for one user: deletes expired and corrupt sessions;
  deletes the hash (user info too) when no live session remains.

  Input:
    KEYS[1] the user's hash

  Output: { deletedSessions, deletedHash (0|1), earliestLiveExpiresAt (0 if none) }
  The caller re-adds the user to the activity set at that score.
]]
local key = KEYS[1]

--- @include "record"

local existed = redis.call('EXISTS', key)
local now = nowMs()
local live, deleted, earliest = dropDeadFields(key, now)
if #live == 0 then
  -- HDEL of the last field already removed an empty hash; report it all the same.
  redis.call('DEL', key)
  return { deleted, existed, 0 }
end
return { deleted, 0, earliest }
