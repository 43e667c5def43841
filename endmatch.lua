-- endmatch.lua: what leave.lua, match.lua and resume.lua share, written once: match.go prepends it to each
-- script's source at load, so each script is still one atomic step. It defines functions only,
-- and reads no KEYS or ARGV of its own.

-- split reads a "\n"-joined list of a user hash (interests); nil or empty: none.
local function split(s)
  local out = {}
  if s == nil or s == false or s == '' then return out end
  for part in string.gmatch(s, '[^\n]+') do out[#out + 1] = part end
  return out
end

-- queueKeys are the queues a user of mode m, interests ints and languages langs waits in, in
-- the order a search of it looks: with languages, one per language and interest
-- (<prefix>:lqueue:<m>:<lang>:<interest>, a shared language and a shared interest), then one per
-- language (<prefix>:lqueue:<m>:<lang>); without, one per interest (<prefix>:queue:<m>:<i>);
-- and the plain one of the mode (<prefix>:queue:<m>, anyone) too when plain. At most
-- 3 x 10 + 3 + 1 = 34 queues (internal/store's Keys.Queues builds the same names).
local function queueKeys(prefix, m, ints, langs, plain)
  local qs = {}
  for _, l in ipairs(langs) do
    for _, i in ipairs(ints) do qs[#qs + 1] = prefix .. ':lqueue:' .. m .. ':' .. l .. ':' .. i end
  end
  for _, l in ipairs(langs) do qs[#qs + 1] = prefix .. ':lqueue:' .. m .. ':' .. l end
  if #langs == 0 then
    for _, i in ipairs(ints) do qs[#qs + 1] = prefix .. ':queue:' .. m .. ':' .. i end
  end
  if plain then qs[#qs + 1] = prefix .. ':queue:' .. m end
  return qs
end

-- leaveQueues takes user me out of every queue its waiting search (mode m, the user hash's
-- interests and languages fields) may be in, the watched users' queue of the mode included.
local function leaveQueues(prefix, me, m, ints, langs)
  for _, q in ipairs(queueKeys(prefix, m, split(ints), split(langs), true)) do redis.call('SREM', q, me) end
  redis.call('SREM', prefix .. ':watched:' .. m, me)
end

-- endMatch ends match mid between the caller me and partner, as Redis has it: the match hash
-- goes, the partner is idle unless Redis has it in another match by now, and with a cooldown
-- (seconds, a string; '0': none) the two may not meet again until now (unix ms) + cooldown
-- (each in the other's <prefix>:met:<id>). The caller's own hash is the calling script's to
-- write. Returns the partner's instance ('' when Redis has none), to tell the partner there.
local function endMatch(prefix, me, mid, partner, cooldown, now)
  redis.call('DEL', prefix .. ':match:' .. mid)
  local pkey = prefix .. ':user:' .. partner
  local p = redis.call('HMGET', pkey, 'match', 'instance')
  if p[1] == mid then
    redis.call('HSET', pkey, 'state', 'idle')
    redis.call('HDEL', pkey, 'match', 'partner')
  end
  local secs, ms = tonumber(cooldown), tonumber(now)
  if secs > 0 then
    local metUntil = ms + secs * 1000
    for _, pair in ipairs({{me, partner}, {partner, me}}) do
      local met = prefix .. ':met:' .. pair[1]
      redis.call('ZREMRANGEBYSCORE', met, '-inf', ms)
      -- GT: never shortens a longer bar (a report's); EXPIRE GT never shortens the key's life,
      -- and NX gives a new key (no TTL, which GT counts as endless) its first
      redis.call('ZADD', met, 'GT', metUntil, pair[2])
      if redis.call('EXPIRE', met, cooldown, 'GT') == 0 then redis.call('EXPIRE', met, cooldown, 'NX') end
    end
  end
  return p[2] or ''
end
