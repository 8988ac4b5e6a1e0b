-- record.lua: report the outcome of a call through a circuit breaker.
--
-- KEYS[1]  the breaker hash (fields as in allow.lua)
-- ARGV[1]  now, Unix ms
-- ARGV[2]  1 for a success, 0 for a failure
-- ARGV[3]  failures that open a closed breaker
-- ARGV[4]  failure window in ms, 0 for none: a streak older than this
--          starts again
-- ARGV[5]  now + cool-down: when an opened breaker may probe
-- ARGV[6]  TTL of KEYS[1] in ms
--
-- Returns the state after the call: 0 closed, 1 open. Results reported
-- while open are ignored: they come from calls admitted before it opened.
-- A success closes the breaker and forgets it (a missing hash is closed).
local h = redis.call('HMGET', KEYS[1], 's', 'f', 'ff')
local s = h[1] or 'c'
if s == 'o' then
  return 1
end
if ARGV[2] == '1' then
  redis.call('DEL', KEYS[1])
  return 0
end
local now = tonumber(ARGV[1])
local f = tonumber(h[2]) or 0
local ff = h[3] or ARGV[1]
if s == 'c' then
  local window = tonumber(ARGV[4])
  if f > 0 and window > 0 and now - tonumber(ff) >= window then
    f = 0
  end
  if f == 0 then
    ff = ARGV[1]
  end
end
f = f + 1
if s == 'h' or f >= tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], 's', 'o', 'f', f, 'ff', ff, 'oa', ARGV[1], 'ra', ARGV[5], 'p', 0, 'pu', 0)
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
  return 1
end
redis.call('HSET', KEYS[1], 's', 'c', 'f', f, 'ff', ff)
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 0
