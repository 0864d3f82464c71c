#!lua flags=allow-oom
--[[
  Gives one slot group to one replica for one tick, and only while no sweep
  of that group is running.

  Out of memory: runs (allow-oom): the sweeper must still get its groups while
  Redis is full, since its sweeps free memory; it writes two tiny keys, both
  with a TTL.

  Input:
    KEYS[1] the group's sweep lease, <prefix>{usersession-sweeper}:lease:<group>
    KEYS[2] the group's marker for this tick, <prefix>{usersession-sweeper}:tick:<group>:<tick>
    ARGV[1] token of the candidate (random per attempt)
    ARGV[2] lease time to live, ms (renewed while the sweep runs)
    ARGV[3] tick marker time to live, ms

  Output:
     1  taken: the group's lease is ours until released or expired
     0  a sweep of this group is still running (here or on another replica): skip it
    -1  the group was already taken in this tick (by any replica)
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[3]) then return -1 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
