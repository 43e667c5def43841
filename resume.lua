-- resume.lua: give a reconnecting user its identity and match back. One atomic step.
-- endmatch.lua is prepended at load (leaveQueues: a search is left by the same rule as leave.lua).
--
-- KEYS[1]  the user's hash, <prefix>:user:<id> (other keys share its hash tag)
-- ARGV[1]  key prefix, e.g. {mm}
-- ARGV[2]  user id
-- ARGV[3]  SHA-256 of the resume token presented
-- ARGV[4]  the instance the user now lives on
-- ARGV[5]  TTL of the user hash, seconds
-- ARGV[6]  now, unix milliseconds: a user held past its resume deadline is not resumed
-- ARGV[7]  SHA-256 of the next resume token: a token resumes once (the one presented is
--          worthless afterwards)
-- ARGV[8]  the address the user resumes from, as its keyed hash (a report reaches this one)
--
-- Returns one of
--   {'invalid'}                                   unknown user, wrong token, or past the grace period
--   {'idle', previous instance, held '1'|'0'}     the identity, with no match to restore
--   {'matched', previous instance, held, match id, partner id, partner instance, initiator '1'|'0', mode,
--    partner's address hash, shared language ('' none), common...}
-- The previous instance is where the identity lived; unless it was held there for a resume, an
-- old socket of it may still be open there, and must be closed.
local prefix, me, tokenHash, inst, ttl, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local ukey = KEYS[1]

local u = redis.call('HMGET', ukey, 'token', 'state', 'match', 'partner', 'mode', 'detached', 'instance')
if not u[1] or u[1] ~= tokenHash then return {'invalid'} end
if u[6] and tonumber(u[6]) < now then return {'invalid'} end
local previous, held = u[7] or '', u[6] and '1' or '0'

redis.call('HSET', ukey, 'instance', inst, 'token', ARGV[7], 'addr', ARGV[8])
redis.call('HDEL', ukey, 'detached')
redis.call('EXPIRE', ukey, ttl)

local state, mid, partner, mode = u[2], u[3], u[4], u[5]
if state == 'matched' and mid and partner then
  local mkey = prefix .. ':match:' .. mid
  local m = redis.call('HMGET', mkey, 'a', 'common', 'language')
  local p = redis.call('HMGET', prefix .. ':user:' .. partner, 'match', 'instance', 'addr')
  if m[1] and p[1] == mid then
    local out = {'matched', previous, held, mid, partner, p[2] or '', m[1] == me and '1' or '0', mode or 'video', p[3] or '',
      m[3] or ''}
    if m[2] and m[2] ~= '' then
      for part in string.gmatch(m[2], '[^\n]+') do out[#out + 1] = part end
    end
    return out
  end
end

-- nothing to restore: a search is not resumed (the client searches again)
if state == 'waiting' then
  -- leave the queues by the same rule as leave.lua
  local w = redis.call('HMGET', ukey, 'interests', 'languages')
  if mode then leaveQueues(prefix, me, mode, w[1], w[2]) end
end
redis.call('HSET', ukey, 'state', 'idle')
redis.call('HDEL', ukey, 'match', 'partner')
return {'idle', previous, held}
