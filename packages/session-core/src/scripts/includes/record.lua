--[[
  Shared by every script that reads session records (pasted in by the loader
  in place of its `--- @include "record"` line): the Lua half of the one
  definition of a valid record. The format, the rule and the compatibility
  rule are in src/record.ts; test/store/record-parsers.test.ts feeds this
  parser and decodeRecord the same values and checks that they agree.

  A record is  2|createdAt|lastSeenAt|expiresAt|absoluteExpiresAt|body  with
  each time 1 to 10 base-36 digits [0-9a-z] (ms from Redis TIME; the last three
  as offsets from createdAt) and the body a JSON array
  [data, name, platform, userAgent, ip, handle, ...]. Anything else is corrupt
  and counts as no session: every script that serves or counts sessions
  judges with parseRecord or liveExpiryOf, and the cleaning ones delete what
  they judge corrupt. The sweeper alone judges by the header (parseHeader,
  decodeHeader in src/record.ts): it deletes a record whose header is
  malformed or past, and leaves the body of a live one to those judges, as
  keeping a record serves nothing.

  For scripts (rotate-session-1.lua among them):
    parseRecord(value)
      -> createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, bodyText, body
         (body decoded, a Lua table); nil when the record is corrupt
    liveExpiryOf(value, now) -> expiresAt when the record is valid and live at now, else nil
    parseHeader(value) -> createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, body position;
         nil when the header is malformed (the body is not looked at)
    recordHandle(field, value) -> the session's public handle; nil when corrupt
    handleOfBody(field, body)  -> the same from parseRecord's decoded body: the stored
         handle (body element 5), else the field's first 16 characters
    withHandle(bodyText, handle) -> bodyText carrying `handle` (16 base64url characters)
         as element 5, nulls filling elements 1 to 4 where the body was shorter; data
         and any later elements are kept as they were, byte for byte
    formatRecord(createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, bodyText) -> the record
]]
local INFO_FIELD = '#info'
local MAX_TIME_DIGITS = 10
local HANDLE_LENGTH = 16
-- Upvalues rather than a global and a field lookup each, as these run once or more per record.
local find, sub, match = string.find, string.sub, string.match
local NULL, decode, decodeInvalidNumbers = cjson.null, cjson.decode, cjson.decode_invalid_numbers

local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- The header alone: createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, body position; nil when malformed.
local function parseHeader(value)
  if type(value) ~= 'string' then return nil end
  local c, s, e, a, p = match(value, '^2|([%da-z]+)|([%da-z]+)|([%da-z]+)|([%da-z]+)|()')
  if not c or #c > MAX_TIME_DIGITS or #s > MAX_TIME_DIGITS or #e > MAX_TIME_DIGITS or #a > MAX_TIME_DIGITS then
    return nil
  end
  c = tonumber(c, 36)
  return c, c + tonumber(s, 36), c + tonumber(e, 36), c + tonumber(a, 36), p
end

--[[
  JSON text as the shared rule takes it (src/record.ts), decoded by cjson; nil
  when corrupt. cjson with decode_invalid_numbers on (its default) takes hex,
  inf, nan, a leading + and leading zeros: it is turned off for this one decode
  and put back, so other scripts sharing the Lua state see no change. Two
  laxities remain, guarded here with plain (memchr-fast) finds, as a pattern
  scan of the text would cost more than the decode:
  - a NUL, which cjson reads as the end of the text;
  - a number with a trailing point ("1.", "1.e5") or "-.5", which strtod takes:
    a point followed by anything but a digit, or "-.", outside strings. The
    plain finds look for the characters that can follow such a number; only
    a hit (in a string, say "Hello. World") costs a closer look.
  Raw control characters inside strings, which cjson takes, the rule takes too.
]]
local LAX_NUMBER_MARKS = { '.,', '.]', '.}', '. ', '.\t', '.\n', '.\r', '.e', '.E', '-.' }

local function decodeJson(text)
  if find(text, '\0', 1, true) then return nil end
  local lax = decodeInvalidNumbers()
  decodeInvalidNumbers(false)
  local ok, decoded = pcall(decode, text)
  decodeInvalidNumbers(lax)
  if not ok then return nil end
  for i = 1, find(text, '.', 1, true) and #LAX_NUMBER_MARKS or 0 do
    if find(text, LAX_NUMBER_MARKS[i], 1, true) then
      -- Escapes out, then strings emptied: what is left is outside strings.
      local outside = string.gsub(string.gsub(text, '\\.', ''), '"[^"]*"', '""')
      if string.find(outside, '%d%.[^%d]') or string.find(outside, '%-%.') then return nil end
      break
    end
  end
  return decoded
end

local function isHandle(value)
  return type(value) == 'string' and #value == HANDLE_LENGTH and not find(value, '[^0-9A-Za-z_%-]')
end

-- The body decoded (a Lua table, cjson.null for JSON null) when valid; nil when corrupt.
local function decodeBody(text)
  local body = decodeJson(text)
  -- cjson decodes arrays and objects alike to tables; only a non-empty array has element 1.
  if type(body) ~= 'table' or body[1] == nil then return nil end
  for i = 2, 5 do
    local field = body[i]
    if field ~= nil and field ~= NULL and type(field) ~= 'string' then return nil end
  end
  local handle = body[6]
  if handle ~= nil and handle ~= NULL and not isHandle(handle) then return nil end
  return body
end

-- createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, bodyText, body; nil when corrupt
local function parseRecord(value)
  local c, s, e, a, p = parseHeader(value)
  if not c then return nil end
  local text = sub(value, p)
  local body = decodeBody(text)
  if not body then return nil end
  return c, s, e, a, text, body
end

-- expiresAt when the record is valid and live at now, else nil. The body of an expired record is
-- not decoded: it is dead either way.
local function liveExpiryOf(value, now)
  local c, _, e, _, p = parseHeader(value)
  if not c or e <= now or not decodeBody(sub(value, p)) then return nil end
  return e
end

local function handleOfBody(field, body)
  local handle = body[6]
  if type(handle) == 'string' then return handle end
  return string.sub(field, 1, HANDLE_LENGTH)
end

local function recordHandle(field, value)
  local c, _, _, _, _, body = parseRecord(value)
  if not c then return nil end
  return handleOfBody(field, body)
end

-- The top-level elements of a valid body, each as its text. Jumps from one
-- structural character to the next with string.find rather than byte by byte.
local function bodyElements(text)
  local elements, depth = {}, 0
  local pos = string.find(text, '[', 1, true) + 1
  local start = pos
  while true do
    local at, _, char = string.find(text, '(["%[%]{},])', pos)
    pos = at + 1
    if char == '"' then
      local quote, escape
      repeat
        quote, _, escape = string.find(text, '(["\\])', pos)
        pos = quote + (escape == '\\' and 2 or 1)
      until escape == '"'
    elseif char == '[' or char == '{' then
      depth = depth + 1
    elseif depth > 0 and (char == ']' or char == '}') then
      depth = depth - 1
    elseif depth == 0 and (char == ',' or char == ']') then
      elements[#elements + 1] = string.sub(text, start, at - 1)
      if char == ']' then return elements end
      start = pos
    end
  end
end

local function withHandle(bodyText, handle)
  local elements = bodyElements(bodyText)
  for i = #elements + 1, 5 do elements[i] = 'null' end
  elements[6] = '"' .. handle .. '"'
  return '[' .. table.concat(elements, ',') .. ']'
end

local function ms(n)
  return string.format('%.0f', n)
end

local BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz'

-- Offsets are never negative by construction; one would be written as 0 (an earlier expiry, never a later one).
local function base36(n)
  n = math.floor(n)
  if n <= 0 then return '0' end
  local out = ''
  while n > 0 do
    local d = n % 36
    out = string.sub(BASE36, d + 1, d + 1) .. out
    n = (n - d) / 36
  end
  return out
end

local function formatRecord(createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, bodyText)
  return '2|' .. base36(createdAt) .. '|' .. base36(lastSeenAt - createdAt) .. '|' .. base36(expiresAt - createdAt)
    .. '|' .. base36(absoluteExpiresAt - createdAt) .. '|' .. bodyText
end

local function hdelAll(key, fields)
  for i = 1, #fields, 500 do
    redis.call('HDEL', key, unpack(fields, i, math.min(i + 499, #fields)))
  end
end

-- The key outlives the given expiry by graceMs; never shortened, so it always
-- covers the latest-expiring session. PEXPIRETIME is -1 without a TTL.
local function coverExpiry(key, expiresAt, graceMs)
  local until_ = expiresAt + graceMs
  if redis.call('PEXPIRETIME', key) < until_ then
    redis.call('PEXPIREAT', key, ms(until_))
  end
end

-- Deletes the expired and corrupt session fields of a user's hash.
-- Returns the live sessions as {field, lastSeenAt, expiresAt}, how many
-- fields were deleted, and the earliest and latest live expiry (0 if none).
-- With headersOnly, bodies are left for the caller to judge (list-sessions-1.lua).
local function dropDeadFields(key, now, headersOnly)
  local all = redis.call('HGETALL', key)
  local live, dead, earliest, latest = {}, {}, 0, 0
  for i = 1, #all, 2 do
    local field = all[i]
    if field ~= INFO_FIELD then
      local createdAt, lastSeenAt, expiresAt, _, p = parseHeader(all[i + 1])
      if createdAt and expiresAt > now and (headersOnly or decodeBody(sub(all[i + 1], p))) then
        live[#live + 1] = { field, lastSeenAt, expiresAt }
        if earliest == 0 or expiresAt < earliest then earliest = expiresAt end
        if expiresAt > latest then latest = expiresAt end
      else
        dead[#dead + 1] = field
      end
    end
  end
  hdelAll(key, dead)
  return live, #dead, earliest, latest
end

-- Once no session field is left, the hash (and its user info) goes.
local function deleteIfNoSessions(key)
  local n = redis.call('HLEN', key)
  if n == 0 or (n == 1 and redis.call('HEXISTS', key, INFO_FIELD) == 1) then
    redis.call('DEL', key)
    return 1
  end
  return 0
end

--[[
  The sweeper's judgement of one user's key: deletes the sessions whose
  header is malformed or past (parseHeader; no body is decoded), or the
  whole hash (user info too) when none is left.
  Returns how many sessions went, whether the hash went (0|1; an absent key
  reports none), the earliest live expiry (0 when none is left), and, for a
  key that holds another type than a hash (a foreign writer sharing the
  prefix), that type's name: such a key is left as it is.
]]
local function cleanHash(key, now)
  -- HGETALL by pcall rather than TYPE first: no second command per user; the type only on a refusal.
  local all = redis.pcall('HGETALL', key)
  if all.err then
    local kind = redis.call('TYPE', key)['ok']
    if kind == 'hash' then error(all.err) end
    return 0, 0, 0, kind
  end
  if #all == 0 then return 0, 0, 0 end
  local dead, live, earliest = {}, 0, 0
  for i = 1, #all, 2 do
    local field = all[i]
    if field ~= INFO_FIELD then
      local createdAt, _, expiresAt = parseHeader(all[i + 1])
      if createdAt and expiresAt > now then
        live = live + 1
        if earliest == 0 or expiresAt < earliest then earliest = expiresAt end
      else
        dead[#dead + 1] = field
      end
    end
  end
  if live > 0 then
    hdelAll(key, dead)
    return #dead, 0, earliest
  end
  redis.call('DEL', key)
  return #dead, 1, 0
end
