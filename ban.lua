-- ban.lua: what a moderator does with a report or a ban. One atomic step.
--
-- KEYS[1]  <prefix>:report:<report id> for 'ban' and 'dismiss', <prefix>:banrec:<ban id> for
--          'lift' (every other key shares its hash tag)
-- ARGV[1]  key prefix, e.g. {mm}
-- ARGV[2]  'ban', 'dismiss' or 'lift'
-- ARGV[3]  the report id ('ban', 'dismiss') or the ban id ('lift')
-- for 'ban': ARGV[4] a fresh ban id, ARGV[5] until (unix ms), ARGV[6] reason, ARGV[7] now (unix ms),
--            ARGV[8] the longest ban, seconds
--
-- A report that is acted on is deleted with its evidence. Returns one of
--   {'banned', address hash}   {'dismissed'}   {'lifted', address hash}   {'unknown'}
local prefix, op, id = ARGV[1], ARGV[2], ARGV[3]

if op == 'lift' then
  local addr = redis.call('GET', KEYS[1])
  if not addr then return {'unknown'} end
  local ban = prefix .. ':ban:' .. addr
  if redis.call('HGET', ban, 'id') == id then redis.call('DEL', ban) end
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', prefix .. ':bans', id)
  return {'lifted', addr}
end

local addr = redis.call('HGET', KEYS[1], 'reported_addr')
if not addr then return {'unknown'} end
redis.call('DEL', KEYS[1])
redis.call('ZREM', prefix .. ':reports:open', id)
if op == 'dismiss' then return {'dismissed'} end

local banID, untilMs, now = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[7])
local seconds = math.ceil((untilMs - now) / 1000)
local ban = prefix .. ':ban:' .. addr
local old = redis.call('HGET', ban, 'id')
if old then
  redis.call('DEL', prefix .. ':banrec:' .. old)
  redis.call('ZREM', prefix .. ':bans', old)
end
redis.call('HSET', ban, 'id', banID, 'until', untilMs, 'reason', ARGV[6], 'source', 'moderator', 'created', now)
redis.call('EXPIRE', ban, seconds)
redis.call('SET', prefix .. ':banrec:' .. banID, addr, 'EX', seconds)
redis.call('ZADD', prefix .. ':bans', untilMs, banID)
redis.call('ZREMRANGEBYSCORE', prefix .. ':bans', '-inf', now)
redis.call('EXPIRE', prefix .. ':bans', tonumber(ARGV[8]))
return {'banned', addr}
