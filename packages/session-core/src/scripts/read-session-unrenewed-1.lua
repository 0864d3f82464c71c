#!lua flags=no-writes
--[[
  Reads one session without renewing it: what get, authenticate and touch
  fall back to when Redis is out of memory and refuses read-session-1.lua
  (which may write). The same judgement, nothing written.

  Out of memory: runs (no-writes): it only reads, so existing sessions keep
  authenticating while Redis is full, unrenewed until memory is freed.

  Input:
    KEYS[1] the user's hash
    ARGV[1] session key

  Output:
    { 0, record, userInfo | false }  live, as stored
    { -1 }                            no such session, or a corrupt record: counts
                                      as none, and is left for the renewing read
                                      or the sweeper to delete
    { -2, expiresAt }                 expired (the caller enqueues its deletion)
]]
local key = KEYS[1]

--- @include "record"

local value = redis.call('HGET', key, ARGV[1])
if not value then return { -1 } end
local createdAt, _, expiresAt = parseRecord(value)
if not createdAt then return { -1 } end
if expiresAt <= nowMs() then return { -2, expiresAt } end
return { 0, value, redis.call('HGET', key, INFO_FIELD) }
