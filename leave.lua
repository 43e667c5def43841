-- leave.lua: end the caller's search or match. One atomic step.
--
-- KEYS[1]  the caller's user hash, <prefix>:user:<caller> (other keys share its hash tag)
-- ARGV[1]  key prefix, e.g. {mm}
-- ARGV[2]  caller id
-- ARGV[3]  '1' to delete the caller's user hash as well (the user is gone for good)
-- ARGV[4]  the instance the caller is expected to live on: if the user hash names another
--          (the user resumed there), nothing is done. Empty: no such check.
-- ARGV[5]  '1' to act only on a user held for a resume (resume.lua clears the hold): the
--          expiry of a hold must not end a match that a resume has just taken back.
-- ARGV[6]  SHA-256 of the user's next resume token (a Stop makes the last one worthless);
--          empty: keep the token
-- ARGV[7]  SHA-256 of the token the caller's session holds: if the user hash holds another (a
--          resume took the identity over with a newer token), nothing is done. Empty: no check.
-- ARGV[8]  REMATCH_COOLDOWN, seconds: the two users of an ended match may not meet again for
--          that long (each in the other's <prefix>:met:<id>; 0: no cooldown)
-- ARGV[9]  now, unix milliseconds
--
-- Returns one of
--   {'matched', partner id, partner instance, match id}  the match was ended; tell the partner
--   {'waiting'}                                          the caller left the queues
--   {'idle'}                                             there was nothing to end
--   {'moved'}                                            the user lives elsewhere now
local prefix, me, forget, expected, heldOnly = ARGV[1], ARGV[2], ARGV[3] == '1', ARGV[4], ARGV[5] == '1'
local ukey = KEYS[1]

local u = redis.call('HMGET', ukey, 'instance', 'detached', 'token', 'state', 'mode', 'interests', 'match', 'partner')
if expected ~= '' and u[1] and u[1] ~= expected then return {'moved'} end
if heldOnly and not u[2] then return {'moved'} end
if ARGV[7] ~= '' and u[3] and u[3] ~= ARGV[7] then return {'moved'} end

local function split(s)
  local out = {}
  if s == nil or s == false or s == '' then return out end
  for part in string.gmatch(s, '[^\n]+') do out[#out + 1] = part end
  return out
end

local state, mode, mid, partner = u[4], u[5], u[7], u[8]
local out = {'idle'}

if state == 'waiting' and mode then
  for _, i in ipairs(split(u[6])) do redis.call('SREM', prefix .. ':queue:' .. mode .. ':' .. i, me) end
  redis.call('SREM', prefix .. ':queue:' .. mode, me)
  out = {'waiting'}
elseif state == 'matched' and mid and partner then
  redis.call('DEL', prefix .. ':match:' .. mid)
  local pkey = prefix .. ':user:' .. partner
  local p = redis.call('HMGET', pkey, 'match', 'instance')
  if p[1] == mid then
    redis.call('HSET', pkey, 'state', 'idle')
    redis.call('HDEL', pkey, 'match', 'partner')
  end
  local cooldown, now = tonumber(ARGV[8]), tonumber(ARGV[9])
  if cooldown > 0 then
    local metUntil = now + cooldown * 1000
    for _, pair in ipairs({{me, partner}, {partner, me}}) do
      local met = prefix .. ':met:' .. pair[1]
      redis.call('ZREMRANGEBYSCORE', met, '-inf', now)
      -- GT: never shortens a longer bar (a report's); EXPIRE GT never shortens the key's life,
      -- and NX gives a new key (no TTL, which GT counts as endless) its first
      redis.call('ZADD', met, 'GT', metUntil, pair[2])
      if redis.call('EXPIRE', met, ARGV[8], 'GT') == 0 then redis.call('EXPIRE', met, ARGV[8], 'NX') end
    end
  end
  out = {'matched', partner, p[2] or '', mid}
end

if forget then
  redis.call('DEL', ukey)
elseif state then
  if ARGV[6] ~= '' then
    redis.call('HSET', ukey, 'state', 'idle', 'token', ARGV[6])
  else
    redis.call('HSET', ukey, 'state', 'idle')
  end
  if mid or partner then redis.call('HDEL', ukey, 'match', 'partner') end
end
return out
