#!lua flags=allow-oom
--[[
  Removes the session whose public handle is ARGV[1] (log out another device).

  Out of memory: runs (allow-oom): it only deletes, so logouts keep working and free memory.

  Input:
    KEYS[1] the user's hash
    ARGV[1] handle: the first characters of the session key

  Output: 1 if a live session had that handle, else 0.
]]
local key = KEYS[1]
local handle = ARGV[1]

--- @include "record"

local now = nowMs()
local fields = redis.call('HKEYS', key)
for i = 1, #fields do
  local field = fields[i]
  if string.sub(field, 1, #handle) == handle and field ~= INFO_FIELD then
    local createdAt, _, expiresAt = parseRecord(redis.call('HGET', key, field))
    redis.call('HDEL', key, field)
    deleteIfNoSessions(key)
    if createdAt and expiresAt > now then return 1 end
    return 0
  end
end
return 0
