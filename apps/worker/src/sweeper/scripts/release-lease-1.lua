#!lua flags=allow-oom
--[[
  Gives a group's sweep lease back, only if it is still ours.

  Out of memory: runs (allow-oom): it only deletes.

  Input:
    KEYS[1] the group's sweep lease, <prefix>{usersession-sweeper}:lease:<group>
    ARGV[1] our token

  Output: 1 released, 0 it was no longer ours
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
