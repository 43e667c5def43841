-- detach.lua: hold a dropped user's identity and match for a resume. One atomic step.
--
-- KEYS[1]  the user's hash, <prefix>:user:<id>
-- ARGV[1]  the instance that lost the user's socket
-- ARGV[2]  the resume deadline, unix milliseconds
-- ARGV[3]  TTL of the user hash, seconds (outlives the deadline, so the partner's instance
--          can still read it)
--
-- Returns 1 when held; 0 when the user lives on another instance now (it resumed there before
-- this instance noticed the old socket was gone) or is gone, and nothing was written.
local at = redis.call('HGET', KEYS[1], 'instance')
if at ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'detached', ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
