#!lua
--[[
  Creates a session under the per-user limit.

  Out of memory: refused as a whole (no allow-oom): it adds a record, and
  without the flags line Redis would refuse only its first growing write,
  after its DEL, and then let every later one through.

  Input:
    KEYS[1] the user's hash, <prefix>usersession:{<userId>}
    KEYS[2] the user's activity shard, <prefix>usersession-activity:{<tag>}
            (in the hash's slot by construction, see src/keys.ts)
    ARGV[1] session key (base64url SHA-256 of the secret): the new field
    ARGV[2] idleTimeoutMs
    ARGV[3] absoluteTimeoutMs
    ARGV[4] maxSessionsPerUser
    ARGV[5] onLimit: "evict-oldest" | "reject"
    ARGV[6] keyGraceMs
    ARGV[7] record body (a JSON array, see src/record.ts)
    ARGV[8] user info JSON to set, or "" to keep what is there
    ARGV[9] the user id, the shard's member

  Output:
    { 0, createdAt, expiresAt, evictedCount, userInfo | false }
    { -3, liveCount }  limit reached and onLimit is "reject"

  Idempotent: a run that finds its own session already stored (the field is
  the hash of a fresh 256-bit secret, so only an earlier run of this very call
  could have written it, whose reply was lost) changes nothing and answers
  for that session, so the caller may send the call again.

  Expired and corrupt fields are dropped first and do not count towards the
  limit. A hash with no live session left is started afresh, user info too.
]]
local key = KEYS[1]
local field = ARGV[1]
local idleMs = tonumber(ARGV[2])
local absoluteMs = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
local onLimit = ARGV[5]
local graceMs = tonumber(ARGV[6])
local body = ARGV[7]
local userInfo = ARGV[8]

--- @include "record"

local now = nowMs()
local live = dropDeadFields(key, now)

if #live == 0 then
  redis.call('DEL', key)
else
  for i = 1, #live do
    if live[i][1] == field then
      local createdAt, _, expiresAt = parseRecord(redis.call('HGET', key, field))
      return { 0, createdAt, expiresAt, 0, redis.call('HGET', key, INFO_FIELD) }
    end
  end
end

local evicted = 0
if #live >= limit then
  if onLimit == 'reject' then return { -3, #live } end
  -- Least recently seen first; ties broken by field so replicas agree.
  table.sort(live, function(a, b)
    if a[2] ~= b[2] then return a[2] < b[2] end
    return a[1] < b[1]
  end)
  local victims = {}
  for i = 1, #live - limit + 1 do victims[#victims + 1] = live[i][1] end
  hdelAll(key, victims)
  evicted = #victims
end

local absoluteExpiresAt = now + absoluteMs
local expiresAt = math.min(now + idleMs, absoluteExpiresAt)
redis.call('HSET', key, field, formatRecord(now, now, expiresAt, absoluteExpiresAt, body))
if userInfo ~= '' then redis.call('HSET', key, INFO_FIELD, userInfo) end
coverExpiry(key, expiresAt, graceMs)
-- The new session may expire before any other: never raise the user's score (LT).
redis.call('ZADD', KEYS[2], 'LT', expiresAt, ARGV[9])
return { 0, now, expiresAt, evicted, redis.call('HGET', key, INFO_FIELD) }
