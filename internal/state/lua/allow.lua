-- allow.lua: may a call go to the target of one circuit breaker?
--
-- KEYS[1]  the breaker, a hash: s state (c closed, o open, h half-open),
--          f failures, ff start of the failure streak, oa opened at,
--          ra end of the cool-down, p probes admitted, pu end of the probe
--          lease (times in Unix ms from the callers' clocks)
-- ARGV[1]  now, Unix ms
-- ARGV[2]  now + cool-down: the end of a new probe lease
-- ARGV[3]  probes allowed at a time when half-open
-- ARGV[4]  TTL of KEYS[1] in ms
--
-- Returns {allowed, state, probe, retry_at}: state 0 closed, 1 open,
-- 2 half-open; retry_at (Unix ms) when refused. An open breaker past its
-- cool-down turns half-open here; probes that were never reported free
-- their slots when the lease ends.
local h = redis.call('HMGET', KEYS[1], 's', 'ra', 'p', 'pu')
local s = h[1]
if not s or s == 'c' then
  return {1, 0, 0, 0}
end
local now = tonumber(ARGV[1])
local p = tonumber(h[3]) or 0
local pu = tonumber(h[4]) or 0
if s == 'o' then
  if now < tonumber(h[2]) then
    return {0, 1, 0, tonumber(h[2])}
  end
  p = 0
elseif now >= pu then
  p = 0
end
if p >= tonumber(ARGV[3]) then
  return {0, 2, 0, pu}
end
redis.call('HSET', KEYS[1], 's', 'h', 'p', p + 1, 'pu', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1, 2, 1, 0}
