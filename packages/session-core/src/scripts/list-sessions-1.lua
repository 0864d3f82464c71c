#!lua flags=allow-oom
--[[
  Lists a user's live sessions, deleting the expired and corrupt ones it
  meets (and the hash, once no live session is left). It judges headers
  only: the caller decodes every record it gets with decodeRecord, the same
  rule's TypeScript half, and deletes one whose body is corrupt (store.ts
  list), which saves Redis a body decode per listed session.

  Out of memory: runs (allow-oom): its only writes drop dead fields.

  Input:
    KEYS[1] the user's hash

  Output:
    { 0, userInfo | false, field1, record1, field2, record2, ... }  live only
]]
local key = KEYS[1]

--- @include "record"

local now = nowMs()
local live = dropDeadFields(key, now, true)
if #live == 0 then
  redis.call('DEL', key)
  return { 0, false }
end
local result = { 0, redis.call('HGET', key, INFO_FIELD) }
for i = 1, #live do
  result[#result + 1] = live[i][1]
  result[#result + 1] = redis.call('HGET', key, live[i][1])
end
return result
