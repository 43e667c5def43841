-- report.lua: store a report, keep the two users apart, and ban the reported address
-- automatically when enough distinct addresses reported it. One atomic step.
--
-- KEYS[1]  <prefix>:report:<report id> (every other key shares its hash tag)
-- ARGV[1]  key prefix, e.g. {mm}
-- ARGV[2]  report id (fresh, from crypto/rand)
-- ARGV[3]  now, unix milliseconds
-- ARGV[4]  REPORT_TTL, seconds: the report, its evidence, and the two users' no-rematch
-- ARGV[5]  REPORT_RATE: reports per hour one address may make
-- ARGV[6]  the reporter's address (keyed hash)      ARGV[7]  the reported user's address
-- ARGV[8]  reporter id      ARGV[9]  reported user id      ARGV[10] match id
-- ARGV[11] reason      ARGV[12] note      ARGV[13] frame (data: URL or '')      ARGV[14] chat (JSON)
-- ARGV[15] AUTOBAN_WINDOW, milliseconds      ARGV[16] AUTOBAN_REPORTERS
-- ARGV[17] AUTOBAN_DURATION, seconds (doubled by each earlier automatic ban in 30 days)
-- ARGV[18] the longest ban, seconds      ARGV[19] an id for the ban, should there be one
-- ARGV[20] REPORT_EVIDENCE_MAX: open reports that keep their evidence; beyond it a report is
--          stored without its still and chat lines (Redis's memory is bounded, not the queue)
--
-- Returns one of
--   {'rate_limited'}                   the reporter's address made REPORT_RATE reports this hour
--   {'duplicate'}                      this reporter reported this match already
--   {'stored', distinct reporters}     and, when that banned the address:
--   {'stored', distinct reporters, ban id, until ms, ban reason}
local prefix, rid, now, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local reporterAddr, reportedAddr, reporter, reported, mid = ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10]

local rate = prefix .. ':reportrate:' .. reporterAddr
local made = redis.call('INCR', rate)
if made == 1 then redis.call('EXPIRE', rate, 3600) end
if made > tonumber(ARGV[5]) then return {'rate_limited'} end
if not redis.call('SET', prefix .. ':reported:' .. mid .. ':' .. reporter, '1', 'NX', 'EX', ttl) then
  return {'duplicate'}
end

local open = prefix .. ':reports:open'
redis.call('ZREMRANGEBYSCORE', open, '-inf', now - ttl * 1000)
local frame, chat = ARGV[13], ARGV[14]
if redis.call('ZCARD', open) >= tonumber(ARGV[20]) then frame, chat = '', '[]' end
redis.call('HSET', KEYS[1], 'created', now, 'reason', ARGV[11], 'note', ARGV[12], 'frame', frame,
  'chat', chat, 'reporter_addr', reporterAddr, 'reported_addr', reportedAddr, 'match', mid)
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('ZADD', open, now, rid)
redis.call('EXPIRE', open, ttl)

-- the two never meet again while the report is open
for _, pair in ipairs({{reporter, reported}, {reported, reporter}}) do
  local met = prefix .. ':met:' .. pair[1]
  redis.call('ZADD', met, now + ttl * 1000, pair[2])
  if redis.call('TTL', met) < ttl then redis.call('EXPIRE', met, ttl) end
end

-- distinct reporting addresses in the window; a banned reporter counts for nothing
local window = tonumber(ARGV[15])
local reporters = prefix .. ':reporters:' .. reportedAddr
if reportedAddr ~= '' and redis.call('EXISTS', prefix .. ':ban:' .. reporterAddr) == 0 then
  redis.call('ZADD', reporters, now, reporterAddr)
end
redis.call('ZREMRANGEBYSCORE', reporters, '-inf', now - window)
redis.call('PEXPIRE', reporters, window)
local count = redis.call('ZCARD', reporters)
if reportedAddr == '' or count < tonumber(ARGV[16]) or redis.call('EXISTS', prefix .. ':ban:' .. reportedAddr) == 1 then
  return {'stored', count}
end

-- an automatic ban, doubled for each automatic ban of the address in 30 days
local history = prefix .. ':banhistory:' .. reportedAddr
local n = redis.call('INCR', history)
redis.call('EXPIRE', history, 30 * 86400)
local seconds = math.min(tonumber(ARGV[17]) * 2 ^ (n - 1), tonumber(ARGV[18]))
local id, untilMs, reason = ARGV[19], now + seconds * 1000, 'reported by ' .. count .. ' people'
local ban = prefix .. ':ban:' .. reportedAddr
redis.call('HSET', ban, 'id', id, 'until', untilMs, 'reason', reason, 'source', 'auto', 'created', now)
redis.call('EXPIRE', ban, math.ceil(seconds))
redis.call('SET', prefix .. ':banrec:' .. id, reportedAddr, 'EX', math.ceil(seconds))
redis.call('ZADD', prefix .. ':bans', untilMs, id)
redis.call('ZREMRANGEBYSCORE', prefix .. ':bans', '-inf', now)
redis.call('EXPIRE', prefix .. ':bans', tonumber(ARGV[18]))
return {'stored', count, id, untilMs, reason}
