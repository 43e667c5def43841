-- reports.lua: what report.lua and ban.lua share (safety.go puts it in front of both). It reads
-- ARGV[1], the key prefix ({mm}); every key it builds shares that hash tag.
--
-- Two things reports take are shared fairly among reporters: the open report records
-- (REPORTS_MAX) and the open reports that keep their evidence (REPORT_EVIDENCE_MAX). Each is a
-- "store": an index of every entry (<all>, id -> filed at, ms), one per reporter label (<by>..label)
-- and the reporters' loads (<load>, label -> entries x weight, a cache for finding the largest).
-- A reporter's weight (<prefix>:reporters:weight, label -> 1 or LOW_WEIGHT) is its standing
-- when it last reported: one not in good standing fills its share three times as fast.
local prefix = ARGV[1]

-- the network part of an address hash (addrs.go: addressHash, netHashLen)
local function net(addr) return string.sub(addr, 1, 12) end

local LOW_WEIGHT = 3
local WEIGHTS = prefix .. ':reporters:weight'
local STORES = {
  reports = {all = prefix .. ':reports:open', by = prefix .. ':reports:by:', load = prefix .. ':reports:load'},
  evidence = {all = prefix .. ':evidence', by = prefix .. ':evidence:by:', load = prefix .. ':evidence:load'},
}

-- whether the address (its hash) is banned at now (ms): by its ban's end, not its key's (a
-- key's life is whole seconds, and can outlast the ban by a moment)
local function banned(addr, now)
  return tonumber(redis.call('HGET', prefix .. ':ban:' .. addr, 'until') or 0) > now
end

-- at least ttl seconds of life for key, never less than it has
local function keepFor(key, ttl)
  if redis.call('TTL', key) < ttl then redis.call('EXPIRE', key, ttl) end
end

-- recount sets label's load in store s from its own index, after dropping the entries filed
-- before cutoff (ms; nil: none), and returns it
local function recount(s, label, cutoff)
  local by = s.by .. label
  if cutoff then redis.call('ZREMRANGEBYSCORE', by, '-inf', '(' .. cutoff) end
  local n = redis.call('ZCARD', by)
  if n == 0 then
    redis.call('ZREM', s.load, label)
    if s == STORES.reports then redis.call('HDEL', WEIGHTS, label) end -- no report left: no standing kept
    return 0
  end
  local load = n * tonumber(redis.call('HGET', WEIGHTS, label) or 1)
  redis.call('ZADD', s.load, load, label)
  return load
end

-- hold adds entry id of label, filed at t (ms), to store s for ttl seconds
local function hold(s, label, id, t, ttl)
  redis.call('ZADD', s.all, t, id)
  redis.call('ZADD', s.by .. label, t, id)
  recount(s, label, nil)
  for _, k in ipairs({s.all, s.by .. label, s.load}) do keepFor(k, ttl) end
end

-- release takes entry id of label out of store s
local function release(s, label, id)
  redis.call('ZREM', s.all, id)
  if redis.call('ZREM', s.by .. label, id) == 1 then recount(s, label, nil) end
end

-- room makes room in store s (at most max entries) for one more entry of label. When it is
-- full, the reporter with the largest load gives up its oldest entry (evict(id, its label)),
-- if that load is larger than label's: nobody can keep another from its share by filing more.
-- false: no room (label's load is as large as anyone's).
local function room(s, label, max, cutoff, evict)
  redis.call('ZREMRANGEBYSCORE', s.all, '-inf', '(' .. cutoff)
  if redis.call('ZCARD', s.all) < max then return true end
  local mine = recount(s, label, cutoff)
  for _ = 1, 8 do -- loads are a cache: expired entries are found when their reporter comes up
    local top = redis.call('ZREVRANGE', s.load, 0, 0, 'WITHSCORES')
    if #top == 0 or top[1] == label then return false end
    local cached = tonumber(top[2])
    local load = recount(s, top[1], cutoff)
    if load == cached then
      if load <= mine then return false end
      evict(redis.call('ZRANGE', s.by .. top[1], 0, 0)[1], top[1])
      return true
    end
  end
  return false
end

-- stripEvidence takes a report's still and chat lines away (its evidence slot goes to another)
local function stripEvidence(id, label)
  local key = prefix .. ':report:' .. id
  if redis.call('EXISTS', key) == 1 then
    redis.call('HSET', key, 'frame', '', 'chat', '[]', 'evidence', 'trimmed')
  end
  release(STORES.evidence, label, id)
end

-- parted lists what keeps a reporter and the user it reported apart while the report is open
-- (sorted set, member): each identity in the other's met set, and each network in the other's
-- apart set (none when they share one). match.lua reads both.
local function parted(reporter, reported, reporterAddr, reportedAddr)
  local out = {{prefix .. ':met:' .. reporter, reported}, {prefix .. ':met:' .. reported, reporter}}
  local a, b = net(reporterAddr), net(reportedAddr)
  if reportedAddr ~= '' and a ~= b then
    out[3] = {prefix .. ':apart:' .. a, b}
    out[4] = {prefix .. ':apart:' .. b, a}
  end
  return out
end

-- dropReport deletes a report with its evidence and takes it out of every index, out of the
-- count towards its reported address's automatic ban, and stops keeping the two apart: the
-- report is closed. label: its reporter's (known from the index when the record itself has
-- expired, and with it everything else: what it wrote expires with it).
local function dropReport(id, label)
  local key = prefix .. ':report:' .. id
  local r = redis.call('HMGET', key, 'label', 'reporter', 'reported', 'reporter_addr', 'reported_addr')
  label = label or r[1]
  redis.call('DEL', key)
  if label then
    release(STORES.reports, label, id)
    release(STORES.evidence, label, id)
  end
  if r[2] and r[3] and r[4] and r[5] then
    for _, p in ipairs(parted(r[2], r[3], r[4], r[5])) do redis.call('ZREM', p[1], p[2]) end
    if r[5] ~= '' then
      redis.call('ZREM', prefix .. ':counted:' .. r[5], net(r[4]) .. ':' .. id)
      redis.call('ZREM', prefix .. ':watch:' .. r[5], net(r[4]) .. ':' .. id) -- watch.lua
    end
  end
end
