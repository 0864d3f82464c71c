#!lua flags=allow-oom
--[[
  Cleans claimed users (sweepDueUsers on a cluster, cleanUsers): for each user, deletes the
  expired and corrupt sessions, and deletes the hash (user info too) when no
  live session remains. Each user is judged on its own; one call only saves
  the per-call cost (in Redis and in the client) of cleaning them one per call.

  Out of memory: runs (allow-oom): it only deletes, so cleanup keeps freeing memory.

  Input:
    KEYS[1..n] the users' hashes (all in one slot on a cluster: callers there
               pass one user per call)

  A key that holds another type than a hash (a foreign writer sharing the
  prefix) is left as it is and reported, and the other keys are cleaned.

  Output: { deletedSessions, deletedHash (0|1), earliestLiveExpiresAt (0 if none),
  wrongType ("" for a hash or no key, else the key's type) } per key, in KEYS
  order, flattened. The caller re-adds each still-live user to the activity
  set at that score.
]]

--- @include "record"

local now = nowMs()
local out = {}
for k = 1, #KEYS do
  local deleted, deletedHash, earliest, wrongType = cleanHash(KEYS[k], now)
  local n = #out
  out[n + 1] = deleted
  out[n + 2] = deletedHash
  out[n + 3] = earliest
  out[n + 4] = wrongType or ''
end
return out
