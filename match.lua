-- match.lua: a Next, or a first search: end the caller's current match, then find a partner for
-- the caller or queue it. One atomic step. endmatch.lua is prepended at load (split, queueKeys,
-- endMatch: the end of a match is written once, for this script and leave.lua).
--
-- KEYS[1]  the caller's user hash, <prefix>:user:<caller>. Every other key is built from the
--          prefix, which carries the hash tag ({mm}), so all of them share KEYS[1]'s cluster slot.
-- ARGV[1]  key prefix, e.g. {mm}
-- ARGV[2]  caller id
-- ARGV[3]  caller's instance id
-- ARGV[4]  mode: video | text
-- ARGV[5]  match id to use on a hit (fresh, from crypto/rand)
-- ARGV[6]  now, unix milliseconds (recorded as created-at / since)
-- ARGV[7]  TTL of the match hash and of both user hashes, seconds
-- ARGV[8]  '0' for a new search (find_match): a match Redis has for the caller is ended first,
--          as leave.lua ends it (the match as Redis has it, the cooldown), and returned to tell
--          the partner; and nothing is done if the user hash names another instance (the user
--          resumed there).
--          '1' when this is the interest fallback: the plain queue of the mode is also used.
--          A fallback run only goes ahead if the caller still waits with the same ticket.
--          '2' when this is a requeue of a search Redis lost: it only goes ahead if Redis has
--          no live search of the caller (no hash, or idle) or waits with the same ticket;
--          never over a match someone else has just made.
--          '3' when this is a later run of the search once the caller's watch wait is over
--          (ARGV[18]): like '1' (the same ticket only), without widening to the plain queue.
-- ARGV[9]  ticket: identifies this search of the caller; returned to whoever pops the caller,
--          so the caller's instance can tell a current match from a stale one
-- ARGV[10] SHA-256 of the caller's resume token (stored in the user hash)
-- ARGV[11] interests, joined by "\n" (may be empty); already normalised and validated
-- ARGV[12] '1' to answer {'retry'} when the budget of dropped stale entries runs out before
--          the queues do (the caller runs the script again); otherwise the caller is queued
-- ARGV[13] the caller's address as its keyed hash (kept in the user hash: a report of the
--          caller reaches the address)
-- ARGV[14] REMATCH_COOLDOWN, seconds, for the match a new search ends ('0': none)
-- ARGV[15] languages, most preferred first, joined by "\n" (may be empty); validated against
--          the server's fixed list. With languages the search looks in its language and
--          interest queues, then its language queues, and (after the fallback) the plain one;
--          without, in its interest queues, then the plain one (queueKeys)
-- ARGV[16] '1': only a stranger who shares a language (the plain queue is never used)
-- ARGV[17] WATCH_REPORTERS: distinct networks whose counting open reports make the caller's
--          address watched ('0': reports never do; a recent ban always does)
-- ARGV[18] '1' when the caller's search has waited WATCH_WAIT: a watched caller is offered to
--          everyone now, and takes from everyone's queues too
--
-- No rematch: a live waiting candidate the caller met recently (its id in <prefix>:met:<caller>,
-- a sorted set of ids scored by the unix ms until which they may not meet again; leave.lua and
-- report.lua write it, both ways), or whose network is kept apart from the caller's while a
-- report between them is open (<prefix>:apart:<the caller's network>, the same for networks:
-- report.lua), is skipped and put back where it waited.
--
-- User hash fields: instance, mode, interests, languages, state (waiting | matched | idle),
--   ticket, fallback ('1': it waits in the plain queue too), since, match, partner, token, addr.
-- Watched (issue 25): an address is watched while <prefix>:watch:<address hash> (a sorted set,
-- internal/safety's watch.lua) holds a ban's entry, or counting reports of ARGV[17] distinct
-- networks, that have not ended: read here on every run (one command; nothing else for a user
-- who is not watched). A watched caller looks in <prefix>:watched:<mode> first (other watched
-- users, as the usual queues would pair them: mayMeetWatched; the others are put back), and
-- waits there; once its wait is over (ARGV[18]) it also looks in
-- and waits in its usual queues, where anyone finds it. A user who is not watched never looks
-- in the watched queue. The user hash's `watched` field says where it waits ('w': the watched
-- queue only, 'W': that one and its usual queues, '0': its usual queues), so a hit takes it out
-- of all of them; leaveQueues always takes a user out of the watched queue of its mode.
--
-- Match hash fields: a, b (user ids; a is the initiator), mode, common, language (the first of
--   a's languages that b has, or ''), created.
--
-- Every answer starts with the match a new search ended: partner id, partner instance, match
-- id ('', '', '' when none ended); the partner is to be told. Then one of
--   {'matched', partner id, partner instance, partner ticket, partner address hash, shared
--    language ('' none), common interest 1, ...}
--   {'waiting', 'new' when someone met recently was passed over, else '', 'w' when the caller is
--    watched and waits among watched users only (its instance runs it again at WATCH_WAIT),
--    else '', then for each user passed over: id, instance, ticket (a user popped from several
--    queues comes more than once)}
--   {'stale'}    (fallback run for a search that has ended)
--   {'retry'}    (only with ARGV[12]: stale entries were dropped, more may remain; a match
--                 ended was ended for good, and the next run does not return it again)
--   {'moved'}    the user hash holds another resume token: a newer socket owns the identity
--
-- Every queue the caller is added to gets the TTL too (re-armed at each add, and by the
-- instances' refresh while their users wait), and a caller still queued from an earlier
-- search leaves those queues first: no queue entry outlives its search.
local prefix, me, inst, mode, mid = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
-- (ttl stays a string: a Lua number handed to redis.call is formatted anew every time)
local now, ttl, fallback, requeue, ticket, token = ARGV[6], ARGV[7], ARGV[8] == '1', ARGV[8] == '2', ARGV[9], ARGV[10]
local later, watchOver = fallback or ARGV[8] == '3', ARGV[18] == '1'
local ukey = KEYS[1]

local function queues(m, ints, langs, plain) return queueKeys(prefix, m, ints, langs, plain) end

-- what this run ended, at the head of every answer
local ended = {'', '', ''}
local function answer(t)
  for i = 1, #t do ended[#ended + 1] = t[i] end
  return ended
end

local interests, langs = split(ARGV[11]), split(ARGV[15])

local prev = redis.call('HMGET', ukey, 'token', 'state', 'mode', 'interests', 'match', 'partner', 'instance', 'ticket', 'languages')
if prev[1] and prev[1] ~= token then return answer({'moved'}) end

if later then
  if prev[2] ~= 'waiting' or prev[8] ~= ticket then return answer({'stale'}) end
elseif requeue then
  if prev[2] == 'matched' or (prev[2] == 'waiting' and prev[8] ~= ticket) then return answer({'stale'}) end
else
  if prev[7] and prev[7] ~= inst then return answer({'moved'}) end
  if prev[2] == 'matched' and prev[5] and prev[6] then
    -- a Next: the match ends here as leave.lua would end it; the caller's hash is written below
    ended = {prev[6], endMatch(prefix, me, prev[5], prev[6], ARGV[14], now), prev[5]}
  end
end

-- an earlier search of the caller leaves its queues (this one is queued again below on a miss):
-- from here on the caller is in no queue (only waiting users are, and a user stops waiting
-- only by a script that takes it out of every queue it was in)
if prev[2] == 'waiting' and prev[3] then leaveQueues(prefix, me, prev[3], prev[4], prev[9]) end

-- the plain queue (anyone): from the start for a search that asks for nothing, after the
-- fallback for one with interests or languages, never for "only my language"
local usePlain = (fallback and ARGV[16] ~= '1') or (#interests == 0 and #langs == 0)

-- watched (see the top): bans end latest, so they come first
local watched, need = false, tonumber(ARGV[17])
if ARGV[13] ~= '' then
  local nets, n = {}, 0
  for _, e in ipairs(redis.call('ZREVRANGEBYSCORE', prefix .. ':watch:' .. ARGV[13], '+inf', '(' .. now, 'LIMIT', 0, 64)) do
    if string.sub(e, 1, 4) == 'ban:' then watched = true break end
    local k = string.sub(e, 1, 12)
    if not nets[k] then nets[k], n = true, n + 1 end
  end
  watched = watched or (need > 0 and n >= need)
end
local watchedQueue = prefix .. ':watched:' .. mode
local looks = {} -- where this run looks, in order, and (unless held back) waits
if watched then looks[1] = watchedQueue end
local usual = not watched or watchOver
if usual then
  for _, q in ipairs(queues(mode, interests, langs, usePlain)) do looks[#looks + 1] = q end
end
local budget = 256 -- stale entries dropped per call at most, so one call stays short
-- Users met recently are put back, and do not count against the budget (a retry would meet
-- them again): at most maxSkip of them are looked at, then the caller waits.
local maxSkip = 32
local metKey, skipped = prefix .. ':met:' .. me, {}
-- networks are the first 12 characters of an address hash (addrs.go: addressHash)
local apartKey = prefix .. ':apart:' .. string.sub(ARGV[13], 1, 12)
local held = {} -- watched users the caller may not meet yet (below), put back
local function putBack()
  for _, s in ipairs(skipped) do redis.call('SADD', s[1], s[2]) end
  for _, s in ipairs(held) do redis.call('SADD', watchedQueue, s) end
end
local function sharedLanguage(clangs)
  local theirs = {}
  for _, l in ipairs(clangs) do theirs[l] = true end
  for _, l in ipairs(langs) do if theirs[l] then return l end end
  return ''
end
local function commonInterests(cints)
  local mine, common = {}, {}
  for _, i in ipairs(interests) do mine[i] = true end
  for _, i in ipairs(cints) do if mine[i] then common[#common + 1] = i end end
  return common
end
-- In the watched queue (one for all interests and languages) two users meet only as the usual
-- queues would let them: sharing an interest or a language, or both searching for anyone (asked
-- nothing, or past the fallback); never without a shared language where either asked for its
-- own only. Otherwise a match made at once with nothing shared would tell both they are watched.
local function mayMeetWatched(c)
  local cints, clangs = split(c[4]), split(c[8])
  local lang = sharedLanguage(clangs)
  if (ARGV[16] == '1' or c[10] == '1') and lang == '' then return false end
  if lang ~= '' or #commonInterests(cints) > 0 then return true end
  return usePlain and (c[6] == '1' or (#cints == 0 and #clangs == 0))
end
for _, q in ipairs(looks) do
  while budget > 0 and #skipped + #held < maxSkip do
    local cand = redis.call('SPOP', q)
    if not cand then break end
    budget = budget - 1
    if cand ~= me then
      local ckey = prefix .. ':user:' .. cand
      local c = redis.call('HMGET', ckey, 'state', 'mode', 'instance', 'interests', 'ticket', 'fallback', 'addr', 'languages', 'watched', 'only')
      local live = c[1] == 'waiting' and c[2] == mode and c[3]
        and redis.call('EXISTS', prefix .. ':instance:' .. c[3]) == 1
      local metUntil = 0
      if live then
        metUntil = math.max(tonumber(redis.call('ZSCORE', metKey, cand) or 0),
          tonumber(c[7] and redis.call('ZSCORE', apartKey, string.sub(c[7], 1, 12)) or 0))
      end
      if metUntil > tonumber(now) then
        skipped[#skipped + 1] = {q, cand, c[3], c[5] or ''} -- met recently: it waits on, for someone new
        budget = budget + 1
      elseif live and q == watchedQueue and not mayMeetWatched(c) then
        held[#held + 1] = cand -- it waits on, for a watched user it may meet
        budget = budget + 1
      elseif live then
        -- a hit: take the partner out of the other queues it waits in (SPOP took it out of
        -- this one; the caller is in none): its interests' and languages', and the plain one
        -- only if it searched there too (a fallback, or nothing asked; a hash without the
        -- flag: maybe)
        local cints, clangs = split(c[4]), split(c[8])
        if c[9] == 'w' or c[9] == 'W' then
          if q ~= watchedQueue then redis.call('SREM', watchedQueue, cand) end
        end
        if c[9] ~= 'w' then -- 'w': it waited in the watched queue only
          for _, cq in ipairs(queues(mode, cints, clangs, c[6] ~= '0' or (#cints == 0 and #clangs == 0))) do
            if cq ~= q then redis.call('SREM', cq, cand) end
          end
        end
        local common, lang = commonInterests(cints), sharedLanguage(clangs)
        local commonText = table.concat(common, '\n')
        local mkey = prefix .. ':match:' .. mid
        redis.call('HSET', mkey, 'a', me, 'b', cand, 'mode', mode, 'common', commonText, 'language', lang, 'created', now)
        redis.call('EXPIRE', mkey, ttl)
        redis.call('HSET', ukey, 'instance', inst, 'mode', mode, 'interests', ARGV[11], 'languages', ARGV[15], 'state', 'matched',
          'ticket', ticket, 'match', mid, 'partner', cand, 'token', token, 'since', now, 'addr', ARGV[13], 'watched', '0')
        redis.call('EXPIRE', ukey, ttl)
        -- 'watched' '0': a matched user waits in no queue (an instance of the previous release,
        -- which never writes the field, may run its next search)
        redis.call('HSET', ckey, 'state', 'matched', 'match', mid, 'partner', me, 'watched', '0')
        redis.call('EXPIRE', ckey, ttl)
        putBack()
        local out = {'matched', cand, c[3], c[5] or '', c[7] or '', lang}
        for _, i in ipairs(common) do out[#out + 1] = i end
        return answer(out)
      end
      -- not waiting any more, another mode, or its instance is dead: the entry stays dropped
    end
  end
end

-- Out of budget with entries left (say, many waiting users of a crashed instance): the caller
-- runs again rather than wait behind them unseen.
if budget == 0 and ARGV[12] == '1' then
  putBack()
  if ended[1] ~= '' then
    -- the match ended for good: the next run must not find (and return) it again
    redis.call('HSET', ukey, 'state', 'idle')
    redis.call('HDEL', ukey, 'match', 'partner')
  end
  return answer({'retry'})
end
putBack()

-- a miss: wait in the queues
redis.call('HSET', ukey, 'instance', inst, 'mode', mode, 'interests', ARGV[11], 'languages', ARGV[15], 'state', 'waiting',
  'ticket', ticket, 'fallback', (fallback and usePlain) and '1' or '0', 'token', token, 'since', now, 'addr', ARGV[13],
  'watched', watched and (usual and 'W' or 'w') or '0', 'only', ARGV[16])
if prev[5] then redis.call('HDEL', ukey, 'match', 'partner') end -- match and partner come and go together
redis.call('EXPIRE', ukey, ttl)
for _, q in ipairs(looks) do
  redis.call('SADD', q, me)
  redis.call('EXPIRE', q, ttl)
end
-- (the users passed over are told so by the caller's instance: they wait for someone new too)
local out = {'waiting', #skipped > 0 and 'new' or '', (watched and not usual) and 'w' or ''}
for _, s in ipairs(skipped) do
  out[#out + 1] = s[2]
  out[#out + 1] = s[3]
  out[#out + 1] = s[4]
end
return answer(out)
