#!lua flags=allow-oom
--[[
  Lists a user's live sessions, deleting the expired and corrupt ones it
  meets (and the hash, once no live session is left).

  Out of memory: runs (allow-oom): its only writes drop dead fields.

  Input:
    KEYS[1] the user's hash

  Output:
    { userInfo | false, field1, record1, field2, record2, ... }  live only
]]
local key = KEYS[1]

--- @include "record"

local now = nowMs()
local live = dropDeadFields(key, now)
if #live == 0 then
  redis.call('DEL', key)
  return { false }
end
local result = { redis.call('HGET', key, INFO_FIELD) }
for i = 1, #live do
  result[#result + 1] = live[i][1]
  result[#result + 1] = redis.call('HGET', key, live[i][1])
end
return result
