-- ban.lua: what a moderator does with a report, a reporter or a ban. One atomic step;
-- reports.lua is in front of it (dropReport).
--
-- KEYS[1]  <prefix>:report:<report id> for 'ban' and 'dismiss', <prefix>:banrec:<ban id> for
--          'lift', <prefix>:reports:by:<label> for 'reporter' (every other key shares its hash tag)
-- ARGV[1]  key prefix, e.g. {mm}
-- ARGV[2]  'ban', 'dismiss', 'lift' or 'reporter'
-- ARGV[3]  the report id ('ban', 'dismiss'), the ban id ('lift') or the reporter's label ('reporter')
-- for 'ban': ARGV[4] a fresh ban id, ARGV[5] until (unix ms), ARGV[6] reason, ARGV[7] now (unix ms),
--            ARGV[8] the longest ban, seconds, ARGV[9] WATCH_AFTER_BAN, ms (watch.lua),
--            ARGV[10] the hash of the ban's appeal token (appeals.go)
-- for 'reporter': ARGV[4] how many reports to dismiss at most in this run, ARGV[5] seconds to
--            restrict the reporter for (0: not), ARGV[6] now (unix ms)
--
-- A report that is acted on is deleted with its evidence, and no longer counts towards an
-- automatic ban; a ban keeps its report, as the moderator saw it, in the ban's appeal record
-- until the ban ends or its appeal is decided. Lifting a ban deletes its appeal. Lifting an
-- automatic ban undoes it: the reports that made it count no more and it does not double the
-- next one. Returns one of
--   {'banned', address hash, the banned user's id}   {'dismissed'}   {'lifted', address hash}   {'unknown'}
--   {'reporter', reports dismissed, '1' when more are left}
local op, id = ARGV[2], ARGV[3]

-- dropAppeal deletes a ban's appeal record (appeals.go) and its user's pointer to it
local function dropAppeal(banID)
  local appeal = prefix .. ':appeal:' .. banID
  local user = redis.call('HGET', appeal, 'user')
  if user and redis.call('GET', prefix .. ':appealuser:' .. user) == banID then
    redis.call('DEL', prefix .. ':appealuser:' .. user)
  end
  redis.call('DEL', appeal, prefix .. ':appealreport:' .. banID)
  redis.call('ZREM', prefix .. ':appeals', banID)
end

if op == 'lift' then
  local addr = redis.call('GET', KEYS[1])
  if not addr then return {'unknown'} end
  local ban = prefix .. ':ban:' .. addr
  local b = redis.call('HMGET', ban, 'id', 'source', 'watched_by')
  if b[1] == id then
    redis.call('DEL', ban)
    if b[2] == 'auto' then
      -- its reports no longer keep the address watched either (watch.lua: the same members),
      -- those that made it (kept with the ban) and any counted since
      local watchKey = prefix .. ':watch:' .. addr
      for m in string.gmatch(b[3] or '', '[^,]+') do redis.call('ZREM', watchKey, m) end
      for _, m in ipairs(redis.call('ZRANGE', prefix .. ':counted:' .. addr, 0, -1)) do
        redis.call('ZREM', watchKey, m)
      end
      redis.call('DEL', prefix .. ':counted:' .. addr)
      local history = prefix .. ':banhistory:' .. addr
      if redis.call('DECR', history) <= 0 then redis.call('DEL', history) end
    end
  end
  redis.call('DEL', KEYS[1])
  dropAppeal(id)
  redis.call('ZREM', prefix .. ':bans', id)
  redis.call('ZREM', prefix .. ':netban:' .. net(addr), id)
  redis.call('ZREM', prefix .. ':watch:' .. addr, 'ban:' .. id) -- a lifted ban was a mistake: no watching after it
  return {'lifted', addr}
end

if op == 'reporter' then
  local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[4]) - 1)
  for _, r in ipairs(ids) do dropReport(r, id) end
  local seconds = tonumber(ARGV[5])
  if seconds > 0 then
    redis.call('SET', prefix .. ':restricted:' .. id, tonumber(ARGV[6]) + seconds * 1000, 'EX', seconds)
  end
  return {'reporter', #ids, redis.call('EXISTS', KEYS[1]) == 1 and '1' or '0'}
end

local addr = redis.call('HGET', KEYS[1], 'reported_addr')
if not addr then return {'unknown'} end
local report = op == 'ban' and redis.call('HMGET', KEYS[1], 'reported', 'reason', 'note', 'label', 'created', 'conversation', 'evidence', 'frame', 'chat')
local reportLeft = op == 'ban' and redis.call('PTTL', KEYS[1]) -- ms the report had left (REPORT_TTL)
dropReport(id, nil)
if op == 'dismiss' then return {'dismissed'} end

local banID, untilMs, now = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[7])
local seconds = math.ceil((untilMs - now) / 1000)
local ban = prefix .. ':ban:' .. addr
local old = redis.call('HGET', ban, 'id')
if old then
  redis.call('DEL', prefix .. ':banrec:' .. old)
  dropAppeal(old)
  redis.call('ZREM', prefix .. ':watch:' .. addr, 'ban:' .. old) -- the new ban's entry stands for it
  redis.call('ZREM', prefix .. ':bans', old)
  redis.call('ZREM', prefix .. ':netban:' .. net(addr), old)
end
redis.call('DEL', ban)
redis.call('HSET', ban, 'id', banID, 'until', untilMs, 'reason', ARGV[6], 'source', 'moderator', 'created', now)
redis.call('EXPIRE', ban, seconds)
redis.call('SET', prefix .. ':banrec:' .. banID, addr, 'EX', seconds)
redis.call('ZADD', prefix .. ':bans', untilMs, banID)
redis.call('ZREMRANGEBYSCORE', prefix .. ':bans', '-inf', now)
keepFor(prefix .. ':bans', tonumber(ARGV[8]))
local netban = prefix .. ':netban:' .. net(addr)
redis.call('ZADD', netban, untilMs, banID)
keepFor(netban, seconds)
watch(addr, 'ban:' .. banID, untilMs + tonumber(ARGV[9]), now)
-- the appeal record (appeals.go): the token's hash, the banned user, the report's part about
-- the banned user (its reason, times, the still of its video, its own lines: those the reporter
-- saw as the stranger's); and the user's pointer to it, for a page that was gone when the ban
-- was made. All end with the ban. The reporter's part (its note, label, and the whole chat with
-- its own lines) is kept apart, for the console, no longer than the report itself would have
-- lived (REPORT_TTL): the ban does not make the reporter's words live longer.
local appeal = prefix .. ':appeal:' .. banID
if report[1] and report[1] ~= '' then redis.call('SET', prefix .. ':appealuser:' .. report[1], banID, 'EX', seconds) end
local own, okChat, lines = {}, pcall(cjson.decode, report[9] or '[]')
if okChat and type(lines) == 'table' then
  for _, l in ipairs(lines) do
    if type(l) == 'table' and l.from == 'stranger' then own[#own + 1] = l end
  end
end
redis.call('HSET', appeal, 'token', ARGV[10], 'user', report[1] or '', 'report_reason', report[2] or '',
  'report_created', report[5] or '', 'conversation', report[6] or '', 'evidence', report[7] or '', 'frame', report[8] or '',
  'chat', #own > 0 and cjson.encode(own) or '[]')
redis.call('EXPIRE', appeal, seconds)
local reporterPart = math.min(seconds * 1000, reportLeft > 0 and reportLeft or 0)
if reporterPart > 0 then
  local kept = prefix .. ':appealreport:' .. banID
  redis.call('HSET', kept, 'note', report[3] or '', 'reporter', report[4] or '', 'chat', report[9] or '[]')
  redis.call('PEXPIRE', kept, reporterPart)
end
return {'banned', addr, report[1] or ''}
