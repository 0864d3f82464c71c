#!lua flags=allow-oom
--[[
  Removes every session of the user but the caller's own (log out other devices).

  Out of memory: runs (allow-oom): it only deletes, so logouts keep working and free memory.

  Input:
    KEYS[1] the user's hash
    ARGV[1] the caller's session key, which must be live

  Output:
    { 0, removedLiveCount }
    { -1 }             the caller's session does not exist, or is corrupt (deleted)
    { -2, expiresAt }  the caller's session has expired
]]
local key = KEYS[1]
local keep = ARGV[1]

--- @include "record"

local now = nowMs()
local value = redis.call('HGET', key, keep)
if not value then return { -1 } end
local createdAt, _, expiresAt = parseRecord(value)
if not createdAt then
  redis.call('HDEL', key, keep)
  deleteIfNoSessions(key)
  return { -1 }
end
if expiresAt <= now then return { -2, expiresAt } end

local all = redis.call('HGETALL', key)
local others, removedLive = {}, 0
for i = 1, #all, 2 do
  local field = all[i]
  if field ~= keep and field ~= INFO_FIELD then
    others[#others + 1] = field
    if liveExpiryOf(all[i + 1], now) then removedLive = removedLive + 1 end
  end
end
hdelAll(key, others)
return { 0, removedLive }
