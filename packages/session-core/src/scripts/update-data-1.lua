#!lua
--[[
  Replaces one live session's data. Everything else in its record stays as
  it was, byte for byte: the times (writing data is not a use of the
  session, so it neither renews nor shortens it), the device, a stored
  handle and any elements a newer release appended. The hash's TTL already
  covers this session, whose expiry does not move, so it is left alone.

  Out of memory: refused as a whole (no allow-oom): the new data may be larger.

  Input:
    KEYS[1] the user's hash
    ARGV[1] the session key, which must be live
    ARGV[2] data JSON (checked by the caller: plain JSON, at most maxDataBytes)

  Output:
    { 0, record, userInfo | false }  replaced; record as stored now
    { -1 }                            no such session
    { -2, expiresAt }                 expired: nothing changed (the caller
                                      enqueues its deletion)
    { -4 }                            corrupt record: deleted, counts as none

  Idempotent: a second run writes the same data again and answers the same.
]]
local key = KEYS[1]
local field = ARGV[1]

--- @include "record"

local value = redis.call('HGET', key, field)
if not value then return { -1 } end
local createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, bodyText = parseRecord(value)
if not createdAt then
  redis.call('HDEL', key, field)
  deleteIfNoSessions(key)
  return { -4 }
end
if expiresAt <= nowMs() then return { -2, expiresAt } end

local elements = bodyElements(bodyText)
elements[1] = ARGV[2]
value = formatRecord(createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, '[' .. table.concat(elements, ',') .. ']')
redis.call('HSET', key, field, value)
return { 0, value, redis.call('HGET', key, INFO_FIELD) }
