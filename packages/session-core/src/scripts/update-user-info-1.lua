#!lua
--[[
  Replaces the user info shared by all of the user's sessions with no
  session at hand (an admin tool, a profile sync). Every live session sees
  it on its next read. Written only while the user has a live session: a
  user without one gets nothing, so this never creates a hash, and never a
  key without a TTL; the next login sets the user info it brings.

  Out of memory: refused as a whole (no allow-oom): the new user info may be larger.

  Input:
    KEYS[1] the user's hash
    ARGV[1] user info JSON (checked by the caller)
    ARGV[2] keyGraceMs

  Output:
    { 0, 1 }  written
    { 0, 0 }  the user has no live session: nothing written

  Idempotent: a second run writes the same value again.
]]
local key = KEYS[1]
local graceMs = tonumber(ARGV[2])

--- @include "record"

local now = nowMs()
local all = redis.call('HGETALL', key)
local latest = 0
for i = 1, #all, 2 do
  if all[i] ~= INFO_FIELD then
    local expiresAt = liveExpiryOf(all[i + 1], now)
    if expiresAt and expiresAt > latest then latest = expiresAt end
  end
end
if latest == 0 then return { 0, 0 } end
redis.call('HSET', key, INFO_FIELD, ARGV[1])
-- The TTL covers the latest live session already; stating it here keeps that true whatever wrote before.
coverExpiry(key, latest, graceMs)
return { 0, 1 }
