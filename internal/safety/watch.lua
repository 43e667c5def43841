-- watch.lua: what makes an address watched (issue 25), written once for report.lua and ban.lua
-- (safety.go puts it in front of both, after reports.lua). An address is watched while
-- <prefix>:watch:<address hash> (a sorted set) holds entries that have not ended:
--   '<reporter network>:<report id>'  an open report against it that counts (report.lua's
--                                     rules), until the report's end; enough distinct networks
--                                     of them (WATCH_REPORTERS) make it watched
--   'ban:<ban id>'                    a ban of it, until WATCH_AFTER_BAN after the ban's end
-- match.lua reads it on every search (one command); dismissing a report, banning on it, or its
-- fair share giving its place away takes its entry out (reports.lua: dropReport); a moderator's
-- Lift takes the ban's out, and an automatic ban's reports' too (ban.lua).

-- watch marks addr (its hash) watched by entry until untilMs (unix ms); now: unix ms
local function watch(addr, entry, untilMs, now)
  if addr == '' or untilMs <= now then return end
  local key = prefix .. ':watch:' .. addr
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  redis.call('ZADD', key, untilMs, entry)
  keepFor(key, math.ceil((untilMs - now) / 1000))
end
