--[[
  The sweeper's operation, for one or more users: for each user, deletes the
  expired and corrupt sessions, and deletes the hash (user info too) when no
  live session remains. Each user is judged on its own; one call only saves
  the per-call cost (in Redis and in the client) of cleaning them one per call.

  Input:
    KEYS[1..n] the users' hashes (all in one slot on a cluster: callers there
               pass one user per call)

  Output: { deletedSessions, deletedHash (0|1), earliestLiveExpiresAt (0 if none) }
  per key, in KEYS order, flattened. The caller re-adds each still-live user
  to the activity set at that score.
]]

--- @include "record"

local now = nowMs()
local out = {}
for k = 1, #KEYS do
  local key = KEYS[k]
  local all = redis.call('HGETALL', key)
  local dead, live, earliest = {}, 0, 0
  for i = 1, #all, 2 do
    local field = all[i]
    if field ~= INFO_FIELD then
      local expiresAt = expiryOf(all[i + 1])
      if expiresAt and expiresAt > now then
        live = live + 1
        if earliest == 0 or expiresAt < earliest then earliest = expiresAt end
      else
        dead[#dead + 1] = field
      end
    end
  end
  local n = #out
  out[n + 1] = #dead
  if live > 0 then
    hdelAll(key, dead)
    out[n + 2] = 0
    out[n + 3] = earliest
  else
    -- Nothing live: the hash goes whole, user info too (an absent key reports no deletion).
    out[n + 2] = #all > 0 and redis.call('DEL', key) or 0
    out[n + 3] = 0
  end
end
return out
