#!lua flags=allow-oom
--[[
  Removes the session whose public handle is ARGV[1] (log out another device).
  A session's handle is the one stored in its record (a session whose secret
  was rotated keeps its handle while its field changes), else its field's
  first 16 characters (recordHandle in the include).

  Out of memory: runs (allow-oom): it only deletes, so logouts keep working and free memory.

  Input:
    KEYS[1] the user's hash
    ARGV[1] handle: 16 base64url characters

  Output: { 0, 1 } if a live session had that handle, else { 0, 0 }. An
  expired session with that handle goes too ({ 0, 0 }); so does a corrupt
  record whose field starts with it, which is no session ({ 0, 0 }).
]]
local key = KEYS[1]
local handle = ARGV[1]

--- @include "record"

local now = nowMs()
local all = redis.call('HGETALL', key)
local gone, live = {}, 0
for i = 1, #all, 2 do
  local field = all[i]
  if field ~= INFO_FIELD then
    local createdAt, _, expiresAt, _, _, body = parseRecord(all[i + 1])
    if createdAt then
      if handleOfBody(field, body) == handle then
        gone[#gone + 1] = field
        if expiresAt > now then live = 1 end
      end
    elseif string.sub(field, 1, HANDLE_LENGTH) == handle then
      gone[#gone + 1] = field
    end
  end
end
if #gone == 0 then return { 0, 0 } end
hdelAll(key, gone)
deleteIfNoSessions(key)
return { 0, live }
