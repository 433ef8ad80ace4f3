"""The Lua scripts of the token-stream protocol (app/streams.py): a write of tokens that runs
at most once however often a client retries it, and a final event that a stream holds once."""

FINAL_EVENT_TYPES = frozenset({"done", "error", "cancelled"})

# KEYS: stream, cancel flag; ARGV: live TTL, marker ("" for none), then type and data of
# each event. The marker goes on the last entry; finding it there means this write ran already.
APPEND_TOKENS = """
local marker = ARGV[2]
if marker ~= '' then
  local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
  if last then
    local fields = last[2]
    for i = 1, #fields, 2 do
      if fields[i] == 'w' and fields[i + 1] == marker then
        return redis.call('EXISTS', KEYS[2])
      end
    end
  end
end
for i = 3, #ARGV, 2 do
  if i + 1 == #ARGV and marker ~= '' then
    redis.call('XADD', KEYS[1], '*', 'type', ARGV[i], 'data', ARGV[i + 1], 'w', marker)
  else
    redis.call('XADD', KEYS[1], '*', 'type', ARGV[i], 'data', ARGV[i + 1])
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return redis.call('EXISTS', KEYS[2])
"""

# KEYS: stream; ARGV: final TTL, type, data. A stream holds at most one final event, last.
APPEND_FINAL = """
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
if last then
  local fields = last[2]
  for i = 1, #fields, 2 do
    if fields[i] == 'type' and (FINAL) then
      return last[1]
    end
  end
end
local id = redis.call('XADD', KEYS[1], '*', 'type', ARGV[2], 'data', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return id
""".replace(
    "FINAL", " or ".join(f"fields[i + 1] == '{kind}'" for kind in sorted(FINAL_EVENT_TYPES))
)
