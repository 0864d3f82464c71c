#!lua flags=allow-oom
--[[
  Adds users to one activity shard, never raising a score one already has
  there (ZADD LT): the drain of the single activity set of earlier releases
  into the shards (cleanup.ts drainLegacyActivity), which then removes them
  from the old set.

  Out of memory: runs (allow-oom): it moves members, which the drain's next
  call removes from the old set, so the sweeper of a full Redis still gets
  every user into a shard and goes on freeing memory.

  Input:
    KEYS[1] the activity shard, <prefix>usersession-activity:{<tag>}
    ARGV[1], ARGV[2], ... pairs of score and user id (all of the shard's slot)

  Output: { 0, how many users were new to the shard }
]]
local added = 0
for i = 1, #ARGV, 1000 do
  added = added + redis.call('ZADD', KEYS[1], 'LT', unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
return { 0, added }
