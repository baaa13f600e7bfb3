-- wrk script: HTTP/1.1 pipelining. Every write sends DEPTH requests for the URL's path back to back
-- (RFC 9112 9.3.2), and wrk counts each of their responses. Usage:
--   wrk -t1 -c50 -d10s -s loadtest/pipeline.lua http://127.0.0.1:8000/data/1KiB.bin -- 16

local depth = 16

init = function(args)
  if args[1] ~= nil then
    depth = tonumber(args[1])
  end
  local requests = {}
  for i = 1, depth do
    requests[i] = wrk.format(nil, wrk.path)
  end
  pipelined = table.concat(requests)
end

request = function()
  return pipelined
end
