#!lua
--[[
  Rotates a session's secret: moves its record from the old session key to
  the new one, keeping the handle, device, data and createdAt, and renews it
  as a read does (rotating is a use of the session). The old key is gone
  when this returns, so no store can serve the old secret again.

  Out of memory: refused as a whole (no allow-oom): the rewritten record is
  larger (it stores the handle) and the TTL may be extended.

  Input:
    KEYS[1] the user's hash
    ARGV[1] the old session key, which must be live
    ARGV[2] the new session key (hash of a fresh 256-bit secret)
    ARGV[3] idleTimeoutMs
    ARGV[4] keyGraceMs

  Output:
    { 0, record, userInfo | false }  rotated; record as stored under the new key
    { -1 }                            no such session (or a corrupt record, deleted)
    { -2, expiresAt }                 the old session has expired: nothing changed
                                      (the caller enqueues its deletion)
    { -2, expiresAt, 1 }              a resent call whose first run rotated the
                                      session, which has since expired

  Idempotent: a run that finds the old key gone and the new one present
  (only an earlier run of this very call could have written it, whose reply
  was lost) changes nothing and answers for that record, so the caller may
  send the call again. The activity set needs no change: the expiry never
  moves earlier.
]]
local key = KEYS[1]
local oldField = ARGV[1]
local newField = ARGV[2]
local idleMs = tonumber(ARGV[3])
local graceMs = tonumber(ARGV[4])

--- @include "record"

local now = nowMs()
local value = redis.call('HGET', key, oldField)
if not value then
  local rotated = redis.call('HGET', key, newField)
  if not rotated then return { -1 } end
  local _, _, expiresAt = parseRecord(rotated)
  if not expiresAt then return { -1 } end
  if expiresAt <= now then return { -2, expiresAt, 1 } end
  return { 0, rotated, redis.call('HGET', key, INFO_FIELD) }
end

local createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, bodyText, body = parseRecord(value)
if not createdAt then
  redis.call('HDEL', key, oldField)
  deleteIfNoSessions(key)
  return { -1 }
end
if expiresAt <= now then return { -2, expiresAt } end

-- Renewal never shortens a session (e.g. after idleTimeoutMs was lowered).
local renewedExpiry = math.max(math.min(now + idleMs, absoluteExpiresAt), expiresAt)
local record = formatRecord(createdAt, math.max(now, lastSeenAt), renewedExpiry, absoluteExpiresAt,
  withHandle(bodyText, handleOfBody(oldField, body)))
redis.call('HDEL', key, oldField)
redis.call('HSET', key, newField, record)
coverExpiry(key, renewedExpiry, graceMs)
return { 0, record, redis.call('HGET', key, INFO_FIELD) }
