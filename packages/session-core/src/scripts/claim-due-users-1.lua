#!lua flags=allow-oom
--[[
  Takes up to ARGV[1] users whose activity score is due (at or before now)
  off the activity set, atomically, so that no two sweepers clean one user
  and a claimed user is cleaned before it can be re-added.

  Out of memory: runs (allow-oom): it only takes members off the activity set, so
  cleanup, which frees memory, keeps working.

  Input:
    KEYS[1] the activity sorted set, <prefix>usersession-activity
    ARGV[1] limit

  Output: the claimed user ids, earliest due first.
]]
local key = KEYS[1]

--- @include "record"

local due = redis.call('ZRANGE', key, '-inf', ms(nowMs()), 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[1]))
for i = 1, #due, 500 do
  redis.call('ZREM', key, unpack(due, i, math.min(i + 499, #due)))
end
return due
