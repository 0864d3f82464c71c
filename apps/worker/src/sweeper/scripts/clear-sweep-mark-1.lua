#!lua flags=allow-oom
--[[
  Clears a group's sweep mark at the end of its sweep, only if it is still
  this sweep's (a later sweep may have replaced it after our lease expired).

  Out of memory: runs (allow-oom): it only deletes.

  Input:
    KEYS[1] the sweep mark, <prefix>{usersession-sweeper}:running:<group>
    ARGV[1] this sweep's token

  Output: 1 cleared, 0 it was no longer ours (or already gone)
]]
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
