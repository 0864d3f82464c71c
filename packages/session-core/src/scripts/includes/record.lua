--[[
  Shared by every script that reads session records (pasted in by the loader
  in place of its `--- @include "record"` line).

  A record is  2|createdAt|lastSeenAt|expiresAt|absoluteExpiresAt|body  with
  the times in base 36, the last three as offsets from createdAt; or, written
  by earlier releases and still read and renewed in its own version,  1|...
  with decimal times (see src/record.ts).
  Times are ms since the epoch from Redis TIME. A value that does not parse is
  corrupt and counts as no session.
]]
local INFO_FIELD = '#info'

local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, body position, version; nil when corrupt
local function parseRecord(value)
  if type(value) ~= 'string' then return nil end
  local c, s, e, a, p = string.match(value, '^2|([%da-z]+)|([%da-z]+)|([%da-z]+)|([%da-z]+)|()')
  if c then
    c, s, e, a = tonumber(c, 36), tonumber(s, 36), tonumber(e, 36), tonumber(a, 36)
    if not (c and s and e and a) then return nil end
    return c, c + s, c + e, c + a, p, 2
  end
  c, s, e, a, p = string.match(value, '^1|(%d+)|(%d+)|(%d+)|(%d+)|()')
  if not c then return nil end
  return tonumber(c), tonumber(s), tonumber(e), tonumber(a), p, 1
end

-- expiresAt alone, for scripts that judge many records; nil when corrupt
local function expiryOf(value)
  if type(value) ~= 'string' then return nil end
  local c, e = string.match(value, '^2|([%da-z]+)|[%da-z]+|([%da-z]+)|[%da-z]+|')
  if c then return tonumber(c, 36) + tonumber(e, 36) end
  e = string.match(value, '^1|%d+|%d+|(%d+)|%d+|')
  return e and tonumber(e)
end

local function ms(n)
  return string.format('%.0f', n)
end

local BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz'

-- Offsets are never negative by construction; one would be written as 0 (an earlier expiry, never a later one).
local function base36(n)
  n = math.floor(n)
  if n <= 0 then return '0' end
  local out = ''
  while n > 0 do
    local d = n % 36
    out = string.sub(BASE36, d + 1, d + 1) .. out
    n = (n - d) / 36
  end
  return out
end

-- In the record's own version: a version 1 record is renewed as version 1 (its body is version 1's).
local function formatRecord(version, createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, body)
  if version == 1 then
    return '1|' .. ms(createdAt) .. '|' .. ms(lastSeenAt) .. '|' .. ms(expiresAt) .. '|' .. ms(absoluteExpiresAt) .. '|' .. body
  end
  return '2|' .. base36(createdAt) .. '|' .. base36(lastSeenAt - createdAt) .. '|' .. base36(expiresAt - createdAt)
    .. '|' .. base36(absoluteExpiresAt - createdAt) .. '|' .. body
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

-- The sweeper's judgement of one user's hash: deletes its expired and corrupt sessions, or the whole
-- hash (user info too) when nothing live remains. Returns how many sessions went, whether the hash
-- went (0|1; an absent key reports none), and the earliest live expiry (0 when none is left).
local function cleanHash(key, now)
  local all = redis.call('HGETALL', key)
  local dead, live, earliest = {}, 0, 0
  for i = 1, #all, 2 do
    local field = all[i]
    if field ~= INFO_FIELD then
      local expiresAt = expiryOf(all[i + 1])
      if expiresAt and expiresAt > now then
        live = live + 1
        if earliest == 0 or expiresAt < earliest then earliest = expiresAt end
      else
        dead[#dead + 1] = field
      end
    end
  end
  if live > 0 then
    hdelAll(key, dead)
    return #dead, 0, earliest
  end
  if #all == 0 then return 0, 0, 0 end
  redis.call('DEL', key)
  return #dead, 1, 0
end
