-- adjust.lua: add a delta (a refund when negative) to the counters of the
-- spans that were current when a reservation was made and have not ended.
--
-- KEYS[i]      counter of one window's span (one hash tag, one slot)
-- ARGV[1]      delta, a non-zero integer
-- ARGV[1+i]    TTL of KEYS[i] in ms: the rest of its span, plus slack
--
-- A refund never takes a counter below zero and never creates one; a debit
-- creates it if needed. Returns the number of keys.
local delta = tonumber(ARGV[1])
for i = 1, #KEYS do
  if delta > 0 then
    redis.call('INCRBY', KEYS[i], ARGV[1])
    redis.call('PEXPIRE', KEYS[i], ARGV[1 + i])
  else
    local v = tonumber(redis.call('GET', KEYS[i]))
    if v then
      if v + delta < 0 then
        redis.call('SET', KEYS[i], 0, 'PX', ARGV[1 + i])
      else
        redis.call('INCRBY', KEYS[i], ARGV[1]) -- keeps the TTL
      end
    end
  end
end
return #KEYS
