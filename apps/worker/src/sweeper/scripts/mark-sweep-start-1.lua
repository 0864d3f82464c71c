#!lua flags=allow-oom
--[[
  Marks a group's sweep as started, and reports the group's previous sweep
  if it never cleared its own mark (killed mid-run, or it lost Redis before
  its end). Run by the group's lease holder only, so the mark found is never
  a live sweep's on this lease.

  Out of memory: runs (allow-oom): the sweep that follows frees memory; the
  mark is one small hash with a TTL.

  Input:
    KEYS[1] the sweep mark, <prefix>{usersession-sweeper}:running:<group> (hash: holder, token, startedAt)
    ARGV[1] this replica's holder id (host:pid)
    ARGV[2] this sweep's token (the lease token)
    ARGV[3] the mark's time to live, ms

  Output:
    {}                     no mark was left behind
    {holder, startedAt}    the mark the previous sweep left: its holder id and its start, ms since the epoch
]]
local previous = redis.call('HMGET', KEYS[1], 'holder', 'startedAt')
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'holder', ARGV[1], 'token', ARGV[2], 'startedAt', now)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if previous[1] then
  return {previous[1], previous[2] or ''}
end
return {}
