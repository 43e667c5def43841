-- report.lua: store a report, keep the two users apart, and ban the reported address
-- automatically when enough reports that count came from distinct networks. One atomic step;
-- reports.lua is in front of it (net, the stores, dropReport).
--
-- KEYS[1]  <prefix>:report:<report id> (every other key shares its hash tag)
-- ARGV[1]  key prefix, e.g. {mm}
-- ARGV[2]  report id: one per reporter and match (safety.go: reportID), so a second report of
--          the same match is a duplicate
-- ARGV[3]  now, unix milliseconds
-- ARGV[4]  REPORT_TTL, seconds: the report, its evidence, and the two kept apart
-- ARGV[5]  REPORT_RATE: reports per hour one network may make
-- ARGV[6]  the reporter's address (its hash: addrs.go)   ARGV[7]  the reported user's address
-- ARGV[8]  reporter id      ARGV[9]  reported user id      ARGV[10] match id
-- ARGV[11] reason      ARGV[12] note      ARGV[13] frame (data: URL or '')      ARGV[14] chat (JSON)
-- ARGV[15] AUTOBAN_WINDOW, milliseconds      ARGV[16] AUTOBAN_REPORTERS
-- ARGV[17] AUTOBAN_DURATION, seconds (doubled by each earlier automatic ban in 30 days)
-- ARGV[18] the longest ban, seconds      ARGV[19] an id for the ban, should there be one
-- ARGV[20] REPORT_EVIDENCE_MAX: open reports that keep their evidence (shared fairly)
-- ARGV[21] the reporter's label (stable per reporting network, opaque: safety.go)
-- ARGV[22] REPORTS_MAX: open reports stored at all (shared fairly)
-- ARGV[23] how long the conversation lasted, ms (the reporter's instance measured it)
-- ARGV[24] '1' when the reported user took part: it wrote to the reporter and the reporter
--          to it, or its own page said its video call connected
-- ARGV[25] '1' when the report carries evidence (a still, or a line of the reported user's)
-- ARGV[26] AUTOBAN_MIN_CONVERSATION, ms      ARGV[27] AUTOBAN_REPORTER_AGE, ms
-- ARGV[28] WATCH_AFTER_BAN, ms: an automatic ban keeps the address watched this long after it
--          ends; a report that counts keeps it watched while it is open (watch.lua)
-- ARGV[29] the hash of the appeal token of the automatic ban, should there be one (appeals.go)
--
-- A report counts towards the automatic ban only when all of these hold (else `why` says which
-- did not): the reporter's network is not the reported one's (shared_address); the reporter's
-- address is not banned, nor any address of its network (banned_reporter); its network was
-- first seen (<prefix>:seen:<net>, written on connecting) at least ARGV[27] ago (new_reporter);
-- reports that count were not made against the reporter's own address in the window
-- (reported_reporter); the conversation lasted ARGV[26] (short); the reported user took part
-- (no_exchange); there is evidence (no_evidence). A restricted reporter's reports (a
-- moderator's decision: <prefix>:restricted:<label>) are not stored at all.
--
-- Everything a report writes that outlives this call (its record, its evidence, its places
-- in the indexes, keeping the two apart, its count) goes when the report goes (reports.lua:
-- dropReport), so REPORTS_MAX bounds all of it; beyond that only the rate counter per network
-- (an hour) and the automatic ban remain.
--
-- Returns one of
--   {'rate_limited'}   the reporter's network made REPORT_RATE reports this hour
--   {'duplicate'}      this reporter reported this match already
--   {'full'}           REPORTS_MAX open reports, and this reporter holds as many as anyone
--   {'stored', distinct networks whose reports count, '1' if this one counts, evidence}
--   and, when that banned the address: {..., ban id, until ms, ban reason}
--   evidence: 'kept', 'none' (none came), 'no_room' (its share is used up: stored without it)
local rid, now, ttl = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local reporterAddr, reportedAddr, reporter, reported = ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local label, window = ARGV[21], tonumber(ARGV[15])
local mynet = net(reporterAddr)

local rate = prefix .. ':reportrate:' .. mynet
local sent = redis.call('INCR', rate)
if sent == 1 then redis.call('EXPIRE', rate, 3600) end
if sent > tonumber(ARGV[5]) then return {'rate_limited'} end
if redis.call('EXISTS', KEYS[1]) == 1 then return {'duplicate'} end

if redis.call('EXISTS', prefix .. ':restricted:' .. label) == 1 then
  return {'stored', 0, '0', 'none'} -- acknowledged, and nothing more (Next's cooldown parts them)
end

-- the reporter's standing, and whether this report counts
local why = {}
local function fails(cond, code) if cond then why[#why + 1] = code end end
local seen = tonumber(redis.call('GET', prefix .. ':seen:' .. mynet) or now)
local badNet = banned(reporterAddr, now) or redis.call('ZCOUNT', prefix .. ':netban:' .. mynet, '(' .. now, '+inf') > 0
local isNew = now - seen < tonumber(ARGV[27])
local reportedItself = redis.call('ZCOUNT', prefix .. ':counted:' .. reporterAddr, now - window, '+inf') > 0
fails(reportedAddr == '', 'no_address')
fails(reportedAddr ~= '' and net(reportedAddr) == mynet, 'shared_address')
fails(badNet, 'banned_reporter')
fails(isNew, 'new_reporter')
fails(reportedItself, 'reported_reporter')
fails(tonumber(ARGV[23]) < tonumber(ARGV[26]), 'short')
fails(ARGV[24] ~= '1', 'no_exchange')
fails(ARGV[25] ~= '1', 'no_evidence')
local counts = #why == 0
local weight = 1
if badNet or isNew or reportedItself then weight = LOW_WEIGHT end
redis.call('HSET', WEIGHTS, label, weight)
keepFor(WEIGHTS, ttl)

-- a record, if there is room for one (or this reporter holds fewer than the largest)
local cutoff = now - ttl * 1000
if not room(STORES.reports, label, tonumber(ARGV[22]), cutoff, dropReport) then return {'full'} end
-- the two never meet again while the report is open: these two identities, and their networks
-- (a new identity from the same network is kept apart too; match.lua reads both). All of it
-- goes with the report (dropReport), so that what reports hold is bounded by REPORTS_MAX.
for _, p in ipairs(parted(reporter, reported, reporterAddr, reportedAddr)) do
  redis.call('ZREMRANGEBYSCORE', p[1], '-inf', now)
  redis.call('ZADD', p[1], 'GT', now + ttl * 1000, p[2])
  keepFor(p[1], ttl)
end
local frame, chat, evidence = ARGV[13], ARGV[14], 'none'
if frame ~= '' or chat ~= '[]' then
  evidence = 'kept'
  if not room(STORES.evidence, label, tonumber(ARGV[20]), cutoff, stripEvidence) then
    frame, chat, evidence = '', '[]', 'no_room'
  end
end
redis.call('HSET', KEYS[1], 'created', now, 'reason', ARGV[11], 'note', ARGV[12], 'frame', frame, 'chat', chat,
  'reporter', reporter, 'reported', reported, 'reporter_addr', reporterAddr, 'reported_addr', reportedAddr,
  'label', label, 'counts', counts and '1' or '0',
  'why', table.concat(why, ','), 'conversation', ARGV[23], 'evidence', evidence)
redis.call('EXPIRE', KEYS[1], ttl)
hold(STORES.reports, label, rid, now, ttl)
if evidence == 'kept' then hold(STORES.evidence, label, rid, now, ttl) end

if reportedAddr == '' then return {'stored', 0, '0', evidence} end

-- distinct networks whose reports count, in the window
local countedKey = prefix .. ':counted:' .. reportedAddr
if counts then
  redis.call('ZADD', countedKey, now, mynet .. ':' .. rid)
  watch(reportedAddr, mynet .. ':' .. rid, now + ttl * 1000, now)
end
redis.call('ZREMRANGEBYSCORE', countedKey, '-inf', now - window)
local members, nets, count = redis.call('ZRANGE', countedKey, 0, -1), {}, 0
for _, m in ipairs(members) do
  local n = string.sub(m, 1, 12)
  if not nets[n] then nets[n], count = true, count + 1 end
end
if #members > 0 then redis.call('PEXPIRE', countedKey, window) end
if not counts or count < tonumber(ARGV[16]) or banned(reportedAddr, now) then
  return {'stored', count, counts and '1' or '0', evidence}
end

-- an automatic ban, doubled for each automatic ban of the address in 30 days; it keeps which
-- reports made it, as they were, for the moderators (the reports themselves may go sooner)
local history = prefix .. ':banhistory:' .. reportedAddr
local n = redis.call('INCR', history)
redis.call('EXPIRE', history, 30 * 86400)
local seconds = math.min(tonumber(ARGV[17]) * 2 ^ (n - 1), tonumber(ARGV[18]))
local id, untilMs, reason = ARGV[19], now + seconds * 1000, 'reported by ' .. count .. ' people'
local made = {}
for _, m in ipairs(members) do
  local r = string.sub(m, 14)
  local f = redis.call('HMGET', prefix .. ':report:' .. r, 'label', 'reason', 'created', 'conversation', 'evidence')
  if f[1] and #made < 20 then
    made[#made + 1] = {id = r, reporter = f[1], reason = f[2], created = tonumber(f[3]),
      conversation_ms = tonumber(f[4]), evidence = f[5]}
  end
end
local ban = prefix .. ':ban:' .. reportedAddr
redis.call('DEL', ban) -- one that has just ended, the key not yet
-- watched_by: the reports' entries in the address's watch set (watch.lua), which a Lift takes
-- out even when the counted set has expired (an hour after the last report; reports live longer)
redis.call('HSET', ban, 'id', id, 'until', untilMs, 'reason', reason, 'source', 'auto', 'created', now,
  'why', cjson.encode({reporters = count, reports = made}), 'watched_by', table.concat(members, ','))
redis.call('EXPIRE', ban, math.ceil(seconds))
redis.call('SET', prefix .. ':banrec:' .. id, reportedAddr, 'EX', math.ceil(seconds))
redis.call('ZADD', prefix .. ':bans', untilMs, id)
redis.call('ZREMRANGEBYSCORE', prefix .. ':bans', '-inf', now)
keepFor(prefix .. ':bans', tonumber(ARGV[18]))
local netban = prefix .. ':netban:' .. net(reportedAddr)
redis.call('ZADD', netban, untilMs, id)
keepFor(netban, math.ceil(seconds))
watch(reportedAddr, 'ban:' .. id, untilMs + tonumber(ARGV[28]), now)
-- its appeal record (appeals.go: no report's evidence, the user sees the reason) and the
-- banned user's pointer to it, in the same step as the ban; both end with it
local appeal = prefix .. ':appeal:' .. id
redis.call('HSET', appeal, 'token', ARGV[29], 'user', reported)
redis.call('EXPIRE', appeal, math.ceil(seconds))
if reported ~= '' then redis.call('SET', prefix .. ':appealuser:' .. reported, id, 'EX', math.ceil(seconds)) end
return {'stored', count, '1', evidence, id, untilMs, reason}
