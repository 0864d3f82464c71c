#!lua
--[[
  Replaces the user info shared by all of the user's sessions, on behalf of
  one live session. Every session sees it on its next read.

  Out of memory: refused as a whole (no allow-oom): the new user info may be larger.

  Input:
    KEYS[1] the user's hash
    ARGV[1] the caller's session key, which must be live
    ARGV[2] user info JSON

  Output:
    { 0 }
    { -1 }             no such session, or a corrupt one (deleted)
    { -2, expiresAt }  the session has expired
]]
local key = KEYS[1]

--- @include "record"

local value = redis.call('HGET', key, ARGV[1])
if not value then return { -1 } end
local createdAt, _, expiresAt = parseRecord(value)
if not createdAt then
  redis.call('HDEL', key, ARGV[1])
  deleteIfNoSessions(key)
  return { -1 }
end
if expiresAt <= nowMs() then return { -2, expiresAt } end
redis.call('HSET', key, INFO_FIELD, ARGV[2])
return { 0 }
