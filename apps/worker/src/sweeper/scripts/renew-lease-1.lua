#!lua flags=allow-oom
--[[
  Extends a group's sweep lease, only if it is still ours.

  Out of memory: runs (allow-oom): a sweep freeing memory must keep its lease;
  PEXPIRE changes a TTL and adds no data.

  Input:
    KEYS[1] the group's sweep lease, <prefix>{usersession-sweeper}:lease:<group>
    ARGV[1] our token
    ARGV[2] lease time to live, ms

  Output: 1 renewed, 0 lost (expired or taken over)
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
