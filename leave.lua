-- leave.lua: end the caller's search or match (a Stop, a socket gone, a hold expired). One
-- atomic step. endmatch.lua is prepended at load (split, queueKeys, endMatch). A Next ends the
-- match in match.lua instead, in the same run as its search.
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

local u = redis.call('HMGET', ukey, 'instance', 'detached', 'token', 'state', 'mode', 'interests', 'match', 'partner', 'languages')
if expected ~= '' and u[1] and u[1] ~= expected then return {'moved'} end
if heldOnly and not u[2] then return {'moved'} end
if ARGV[7] ~= '' and u[3] and u[3] ~= ARGV[7] then return {'moved'} end

local state, mode, mid, partner = u[4], u[5], u[7], u[8]
local out = {'idle'}

if state == 'waiting' and mode then
  leaveQueues(prefix, me, mode, u[6], u[9])
  out = {'waiting'}
elseif state == 'matched' and mid and partner then
  out = {'matched', partner, endMatch(prefix, me, mid, partner, ARGV[8], ARGV[9]), mid}
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
