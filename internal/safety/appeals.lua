-- appeals.lua: a banned user opens the appeal of its ban, or a moderator upholds the ban. One
-- atomic step; a moderator's lift is ban.lua's (it deletes the appeal with the ban).
--
-- KEYS[1]  <prefix>:appeal:<ban id> (every other key shares its hash tag)
-- ARGV[1]  key prefix, e.g. {mm}
-- ARGV[2]  'show', 'open', 'uphold' or 'claim'
-- ARGV[3]  the ban id
-- ARGV[4]  now (unix ms)
-- for 'show' and 'open': ARGV[5] the hash of the token presented (a SHA-256 of 260 random
--             bits: comparing hashes tells a timing attacker nothing it can use); for 'open'
--             also ARGV[6] the appeal's text, ARGV[7] the longest ban, seconds
-- for 'claim': ARGV[5] the hash of a new token for the ban (the old one is good no more),
--             ARGV[6] the claiming identity (the banned user's, or no claim)
--
-- An appeal is open only while its ban is in force (the ban record names the address whose
-- ban it still is, and that ban has not ended): a lifted, replaced or ended ban has none.
-- Upholding keeps the ban and deletes the kept report and the appeal's text; the record keeps
-- its state, so that the user sees the decision and cannot appeal again.
-- Returns {'shown', until (ms), reason, state, text, report reason, frame, chat}: only what the
--   banned user may see (the record's report fields of the reporter are never read here)
--   {'opened'}  {'appealed'} (open or decided already)  {'upheld'}  {'claimed', until (ms)}
--   {'unknown'} (for a token: not one, another ban's, or its ban is not in force)
local prefix, op, id, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local rec = redis.call('HMGET', KEYS[1], 'token', 'state')
if not rec[1] then return {'unknown'} end
local addr = redis.call('GET', prefix .. ':banrec:' .. id)
if not addr then return {'unknown'} end
local ban = redis.call('HMGET', prefix .. ':ban:' .. addr, 'id', 'until', 'reason')
if ban[1] ~= id or tonumber(ban[2] or 0) <= now then return {'unknown'} end

if op == 'show' then
  if rec[1] ~= ARGV[5] then return {'unknown'} end
  local own = redis.call('HMGET', KEYS[1], 'text', 'report_reason', 'frame', 'chat')
  return {'shown', ban[2], ban[3] or '', rec[2] or '', own[1] or '', own[2] or '', own[3] or '', own[4] or ''}
end

if op == 'claim' then
  if redis.call('HGET', KEYS[1], 'user') ~= ARGV[6] then return {'unknown'} end
  redis.call('HSET', KEYS[1], 'token', ARGV[5])
  return {'claimed', ban[2]}
end

local index = prefix .. ':appeals'
if op == 'open' then
  if rec[1] ~= ARGV[5] then return {'unknown'} end
  if rec[2] then return {'appealed'} end
  redis.call('HSET', KEYS[1], 'state', 'open', 'text', ARGV[6], 'opened', now)
  redis.call('ZADD', index, now, id)
  local ttl = tonumber(ARGV[7])
  -- an appeal opened longer ago than the longest ban has no ban in force: the index keeps no
  -- ended appeals (the console drops those it meets sooner)
  redis.call('ZREMRANGEBYSCORE', index, '-inf', now - ttl * 1000)
  if redis.call('TTL', index) < ttl then redis.call('EXPIRE', index, ttl) end
  return {'opened'}
end

if rec[2] ~= 'open' then return {'unknown'} end
redis.call('HDEL', KEYS[1], 'text', 'report_reason', 'report_created', 'conversation', 'evidence', 'frame', 'chat')
redis.call('DEL', prefix .. ':appealreport:' .. id)
redis.call('HSET', KEYS[1], 'state', 'upheld', 'decided', now)
redis.call('ZREM', index, id)
return {'upheld'}
