-- reserve.lua: add a cost to every window of one subject, or to none.
--
-- KEYS[i]      counter of window i for its current fixed span; all keys
--              share the subject's hash tag, so they live in one slot
-- ARGV[1]      cost, an integer >= 0
-- ARGV[2i]     limit of window i
-- ARGV[2i+1]   TTL of KEYS[i] in ms: the rest of its span, plus slack; set
--              when INCRBY creates the key (every key these scripts write
--              has a TTL, so an existing one keeps its own)
--
-- Returns {allowed, used_1, ..., used_n}: allowed is 1 or 0; used_i is the
-- count of window i after the reservation when allowed, unchanged if not.
-- The caller computes the spans from its own clock (not Redis TIME), so
-- every node must keep its clock synchronised.
local cost = tonumber(ARGV[1])
local used = redis.call('MGET', unpack(KEYS))
local res = {1}
for i = 1, #KEYS do
  local u = tonumber(used[i]) or 0
  res[i + 1] = u
  if u + cost > tonumber(ARGV[2 * i]) then
    res[1] = 0
  end
end
if res[1] == 1 and cost > 0 then
  for i = 1, #KEYS do
    local u = redis.call('INCRBY', KEYS[i], ARGV[1])
    res[i + 1] = u
    if u == cost then
      redis.call('PEXPIRE', KEYS[i], ARGV[2 * i + 1])
    end
  end
end
return res
