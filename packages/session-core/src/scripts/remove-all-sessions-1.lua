#!lua flags=allow-oom
--[[
  Removes all of a user's sessions and the user info (log out everywhere).

  Out of memory: runs (allow-oom): it only deletes, so logouts keep working and free memory.

  Input:
    KEYS[1] the user's hash

  Output: { 0, how many live sessions were removed } (corrupt records go too, uncounted).
]]
local key = KEYS[1]

--- @include "record"

-- Only the values are needed to count the live sessions; #info's value never parses as a record.
local now = nowMs()
local live = 0
local values = redis.call('HVALS', key)
for i = 1, #values do
  if liveExpiryOf(values[i], now) then live = live + 1 end
end
redis.call('DEL', key)
return { 0, live }
