-- detach.lua: hold a dropped user's identity and match for a resume. One atomic step.
--
-- KEYS[1]  the user's hash, <prefix>:user:<id>
-- ARGV[1]  the instance that lost the user's socket
-- ARGV[2]  the resume deadline, unix milliseconds
-- ARGV[3]  TTL of the user hash, seconds (outlives the deadline, so the partner's instance
--          can still read it)
-- ARGV[4]  SHA-256 of the resume token the dropped socket's session held
--
-- Returns 1 when held; 0 when the user lives on another socket now (it resumed, here or on
-- another instance, before this instance noticed the old socket was gone: the instance or
-- the token differs) or is gone, and nothing was written.
local u = redis.call('HMGET', KEYS[1], 'instance', 'token')
if u[1] ~= ARGV[1] or u[2] ~= ARGV[4] then return 0 end
redis.call('HSET', KEYS[1], 'detached', ARGV[2])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return 1
