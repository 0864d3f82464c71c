#!lua flags=allow-oom
--[[
  The last step of moving a user from the single activity set of earlier
  releases into its shard: the caller has read the user's score and added it
  to the shard (ZADD LT, so never later than a score it had there); this
  removes the user from the old set only if its score there is still the one
  read, so a score an older release lowered meanwhile is moved on the next
  pass rather than lost.

  Out of memory: runs (allow-oom): it only removes members.

  Input:
    KEYS[1] the old activity set, <prefix>usersession-activity
    ARGV[1], ARGV[2], ... pairs of user id and the score read

  Output: { 0, how many users were removed }
]]
local legacy = KEYS[1]
local removed = 0
for i = 1, #ARGV, 2 do
  local score = redis.call('ZSCORE', legacy, ARGV[i])
  if score and tonumber(score) == tonumber(ARGV[i + 1]) then
    removed = removed + redis.call('ZREM', legacy, ARGV[i])
  end
end
return { 0, removed }
