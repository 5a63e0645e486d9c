-- GET the constant answer (H): the HTTP stack without the service.
local path = os.getenv("CONST_PATH")
request = function() return wrk.format("GET", path) end
