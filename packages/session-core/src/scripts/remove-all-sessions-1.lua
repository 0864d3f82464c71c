--[[
  Removes all of a user's sessions and the user info (log out everywhere).

  Input:
    KEYS[1] the user's hash

  Output: how many live sessions were removed.
]]
local key = KEYS[1]

--- @include "record"

local now = nowMs()
local live = dropDeadFields(key, now)
redis.call('DEL', key)
return #live
