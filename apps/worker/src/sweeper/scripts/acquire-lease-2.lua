#!lua flags=allow-oom
--[[
  Elects one replica for one cron tick, and only while no sweep is running.

  Out of memory: runs (allow-oom): the sweeper must still be elected while Redis
  is full, since its sweeps free memory; it writes two tiny keys, both with a TTL.

  Input:
    KEYS[1] the sweep lease, <prefix>{usersession-sweeper}:lease
    KEYS[2] this tick's marker, <prefix>{usersession-sweeper}:tick:<task>:<ISO time of the tick>
    ARGV[1] token of the candidate (random per attempt)
    ARGV[2] lease time to live, ms (renewed while the sweep runs)
    ARGV[3] tick marker time to live, ms

  Output:
     1  elected: the lease is ours until released or expired
     0  a sweep is still running (here or on another replica): skip this tick
    -1  another replica already took this tick
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[3]) then return -1 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
