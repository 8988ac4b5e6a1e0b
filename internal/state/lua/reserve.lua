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
local allowed = 1
for i = 1, #KEYS do
  used[i] = tonumber(used[i]) or 0
  if used[i] + cost > tonumber(ARGV[2 * i]) then
    allowed = 0
  end
end
if allowed == 1 and cost > 0 then
  for i = 1, #KEYS do
    used[i] = redis.call('INCRBY', KEYS[i], ARGV[1])
    if used[i] == cost then
      redis.call('PEXPIRE', KEYS[i], ARGV[2 * i + 1])
    end
  end
end
table.insert(used, 1, allowed)
return used
