#!lua
--[[
  Reads one session and renews its idle expiry (sliding), writing at most
  once per touch interval so that most reads stay reads. Used by get,
  authenticate and touch.

  Out of memory: refused as a whole (no allow-oom): its renewal rewrites the
  record and may extend the TTL. The store then falls back to
  read-session-unrenewed-1.lua, which serves the session unrenewed.

  Input:
    KEYS[1] the user's hash
    ARGV[1] session key
    ARGV[2] idleTimeoutMs
    ARGV[3] touchIntervalMs (0: renew on every read)
    ARGV[4] keyGraceMs

  Output:
    { 0, record, userInfo | false }  live; record as stored after renewal
    { -1 }                            no such session
    { -2, expiresAt }                 expired: not renewed, not deleted here
                                      (the caller enqueues its deletion)
    { -4 }                            corrupt record: deleted, counts as none
]]
local key = KEYS[1]
local field = ARGV[1]
local idleMs = tonumber(ARGV[2])
local touchIntervalMs = tonumber(ARGV[3])
local graceMs = tonumber(ARGV[4])

--- @include "record"

local value = redis.call('HGET', key, field)
if not value then return { -1 } end

local createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, bodyText = parseRecord(value)
if not createdAt then
  redis.call('HDEL', key, field)
  deleteIfNoSessions(key)
  return { -4 }
end

local now = nowMs()
if expiresAt <= now then return { -2, expiresAt } end

if now > lastSeenAt and now - lastSeenAt >= touchIntervalMs then
  -- Renewal never shortens a session (e.g. after idleTimeoutMs was lowered).
  local renewedExpiry = math.max(math.min(now + idleMs, absoluteExpiresAt), expiresAt)
  -- The body is kept as stored, with any elements a newer release added.
  value = formatRecord(createdAt, now, renewedExpiry, absoluteExpiresAt, bodyText)
  redis.call('HSET', key, field, value)
  coverExpiry(key, renewedExpiry, graceMs)
end

return { 0, value, redis.call('HGET', key, INFO_FIELD) }
