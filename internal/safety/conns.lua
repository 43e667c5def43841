-- conns.lua: count one address's connections across the cluster. One atomic step.
--
-- KEYS[1]  <prefix>:conns:<keyed hash of the address>, a hash: instance id -> connections
-- ARGV[1]  key prefix, e.g. {mm}
-- ARGV[2]  this instance's id
-- ARGV[3]  'acquire', 'release' or 'set'
-- ARGV[4]  acquire: the cap (connections per address, all instances); set: this instance's count
-- ARGV[5]  TTL of the key, seconds
--
-- Instances whose heartbeat is gone no longer count (their fields are dropped).
-- Returns 1 when done; 0 when an acquire would go over the cap (nothing written).
local key, prefix, me, op, n, ttl = KEYS[1], ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])

if op == 'acquire' then
  local total, fields = 0, redis.call('HGETALL', key)
  for i = 1, #fields, 2 do
    if fields[i] == me or redis.call('EXISTS', prefix .. ':instance:' .. fields[i]) == 1 then
      total = total + tonumber(fields[i + 1])
    else
      redis.call('HDEL', key, fields[i])
    end
  end
  if total >= n then return 0 end
  redis.call('HINCRBY', key, me, 1)
elseif op == 'release' then
  if redis.call('HINCRBY', key, me, -1) <= 0 then redis.call('HDEL', key, me) end
else
  if n > 0 then redis.call('HSET', key, me, n) else redis.call('HDEL', key, me) end
end
if redis.call('EXISTS', key) == 1 then redis.call('EXPIRE', key, ttl) end
return 1
