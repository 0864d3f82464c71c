#!lua flags=no-writes
--[[
  Reads the user info shared by all of the user's sessions, as long as one
  of them is live (a user whose sessions have all expired has none to show,
  though the hash may linger for keyGraceMs).

  Out of memory: runs (no-writes).

  Input:
    KEYS[1] the user's hash

  Output:
    { 0, userInfo }  set, and the user has a live session
    { 0, false }     none set, or no live session
]]
local key = KEYS[1]

--- @include "record"

local info = redis.call('HGET', key, INFO_FIELD)
if not info then return { 0, false } end
local now = nowMs()
local all = redis.call('HGETALL', key)
for i = 1, #all, 2 do
  if all[i] ~= INFO_FIELD and liveExpiryOf(all[i + 1], now) then return { 0, info } end
end
return { 0, false }
