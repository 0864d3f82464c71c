--[[
  Shared by every script that reads session records (pasted in by the loader
  in place of its `--- @include "record"` line).

  A record is  1|createdAt|lastSeenAt|expiresAt|absoluteExpiresAt|body
  (see src/record.ts). Times are ms since the epoch from Redis TIME. A value
  that does not parse is corrupt and counts as no session.
]]
local INFO_FIELD = '#info'

local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, body position; nil when corrupt
local function parseRecord(value)
  if type(value) ~= 'string' then return nil end
  local c, s, e, a, p = string.match(value, '^1|(%d+)|(%d+)|(%d+)|(%d+)|()')
  if not c then return nil end
  return tonumber(c), tonumber(s), tonumber(e), tonumber(a), p
end

-- expiresAt alone, for scripts that judge many records; nil when corrupt
local function expiryOf(value)
  if type(value) ~= 'string' then return nil end
  return tonumber(string.match(value, '^1|%d+|%d+|(%d+)|%d+|'))
end

local function ms(n)
  return string.format('%.0f', n)
end

local function formatRecord(createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, body)
  return '1|' .. ms(createdAt) .. '|' .. ms(lastSeenAt) .. '|' .. ms(expiresAt) .. '|' .. ms(absoluteExpiresAt) .. '|' .. body
end

local function hdelAll(key, fields)
  for i = 1, #fields, 500 do
    redis.call('HDEL', key, unpack(fields, i, math.min(i + 499, #fields)))
  end
end

-- The key outlives the given expiry by graceMs; never shortened, so it always
-- covers the latest-expiring session. PEXPIRETIME is -1 without a TTL.
local function coverExpiry(key, expiresAt, graceMs)
  local until_ = expiresAt + graceMs
  if redis.call('PEXPIRETIME', key) < until_ then
    redis.call('PEXPIREAT', key, ms(until_))
  end
end

-- Deletes the expired and corrupt session fields of a user's hash.
-- Returns the live sessions as {field, lastSeenAt, expiresAt}, how many
-- fields were deleted, and the earliest and latest live expiry (0 if none).
local function dropDeadFields(key, now)
  local all = redis.call('HGETALL', key)
  local live, dead, earliest, latest = {}, {}, 0, 0
  for i = 1, #all, 2 do
    local field = all[i]
    if field ~= INFO_FIELD then
      local createdAt, lastSeenAt, expiresAt = parseRecord(all[i + 1])
      if createdAt and expiresAt > now then
        live[#live + 1] = { field, lastSeenAt, expiresAt }
        if earliest == 0 or expiresAt < earliest then earliest = expiresAt end
        if expiresAt > latest then latest = expiresAt end
      else
        dead[#dead + 1] = field
      end
    end
  end
  hdelAll(key, dead)
  return live, #dead, earliest, latest
end

-- Once no session field is left, the hash (and its user info) goes.
local function deleteIfNoSessions(key)
  local n = redis.call('HLEN', key)
  if n == 0 or (n == 1 and redis.call('HEXISTS', key, INFO_FIELD) == 1) then
    redis.call('DEL', key)
    return 1
  end
  return 0
end
