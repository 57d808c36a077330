// wrk, the load generator of `bun run bench` (bench/run.ts, bench/peer.ts): finding it, running
// it, reading its figures, and the Lua scripts both benches use.
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface WrkResult {
  name: string;
  rps: number;
  p50: string;
  p99: string;
  errors: number;
  requests: number;
}

export interface WrkOptions {
  wrk: string;
  threads: number;
  connections: number;
  duration: number;
  /** Runs wrk on CPU 1 (taskset) so that it cannot land on the core of the server it measures. */
  pin: boolean;
}

export async function ensureWrk(): Promise<string> {
  let wrk = Bun.which("wrk");
  if (wrk) return wrk;
  if (process.getuid?.() === 0 && Bun.which("apt-get")) {
    console.log("wrk is missing; installing it with apt-get (Debian package 'wrk') ...");
    const r = Bun.spawnSync(["sh", "-c", "apt-get install -y wrk || (apt-get update && apt-get install -y wrk)"], { stdout: "inherit", stderr: "inherit" });
    if (r.exitCode === 0) wrk = Bun.which("wrk");
  }
  if (!wrk) {
    console.error("The benchmark needs the load generator `wrk`: apt-get install -y wrk (Debian/Ubuntu) or brew install wrk.");
    process.exit(2);
  }
  return wrk;
}

export const onCpu1 = (pin: boolean, cmd: string[]) => (pin ? ["taskset", "-c", "1", ...cmd] : cmd);

/**
 * One wrk run. A script that prints `BENCH ok=N bad=N us=N` from done() (the single-use code
 * script below) is counted by that line: requests/second are its successful responses over the
 * time from its first request to its last answer (wrk's own run lasts -d regardless), errors its
 * failed ones.
 */
export function runWrk(o: WrkOptions, name: string, url: string, script?: string, duration = o.duration): WrkResult {
  const cmd = onCpu1(o.pin, [o.wrk, `-t${o.threads}`, `-c${o.connections}`, `-d${duration}s`, "--latency", ...(script ? ["-s", script] : []), url]);
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  const text = r.stdout.toString() + r.stderr.toString();
  let rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? 0);
  const p50 = /\s50%\s+(\S+)/.exec(text)?.[1] ?? "?";
  const p99 = /\s99%\s+(\S+)/.exec(text)?.[1] ?? "?";
  let requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const sockErrors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  let errors = non2xx + sockErrors;
  const own = /BENCH ok=(\d+) bad=(\d+) us=(\d+)/.exec(text);
  if (own) {
    requests = Number(own[1]);
    errors = Number(own[2]) + sockErrors;
    rps = Number(own[3]) > 0 ? requests / (Number(own[3]) / 1e6) : 0;
  }
  if (!rps) console.error(`wrk output for ${name}:\n${text}`);
  return { name, rps, p50, p99, errors, requests };
}

export function writeScript(dir: string, name: string, lua: string): string {
  const p = join(dir, `${name}.lua`);
  writeFileSync(p, lua);
  return p;
}

const luaHeaderLines = (headers: Record<string, string>) => Object.entries(headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join("\n");

export function luaPost(path: string, body: string, headers: Record<string, string>): string {
  return `wrk.method = "POST"\nwrk.path = ${JSON.stringify(path)}\nwrk.body = ${JSON.stringify(body)}\n${luaHeaderLines(headers)}\n`;
}

export function luaGet(path: string, headers: Record<string, string>): string {
  return `wrk.method = "GET"\nwrk.path = ${JSON.stringify(path)}\n${luaHeaderLines(headers)}\n`;
}

/** Lua: each wrk thread numbers itself (tid) and loads its own share of `file`'s lines (lines
 *  tid × perThread to (tid + 1) × perThread) into `queue`. */
function luaThreadShare(file: string, perThread: number): string {
  return `
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
local queue = {}
function init(args)
  local i = 0
  for line in io.lines(${JSON.stringify(file)}) do
    if i >= tid * ${perThread} and i < (tid + 1) * ${perThread} then table.insert(queue, line) end
    i = i + 1
  end
end`;
}

/** One pre-signed value per request, taken from a file (a thread's share), sent as a header. */
export function luaQueuedHeader(path: string, body: string, headers: Record<string, string>, header: string, file: string, perThread: number): string {
  const h = Object.entries(headers).map(([k, v]) => `[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join(", ");
  return `${luaThreadShare(file, perThread)}
local next_i = 1
function request()
  local v = queue[next_i] or "exhausted"
  next_i = next_i + 1
  local hs = { ${h} }
  hs[${JSON.stringify(header)}] = v
  return wrk.format("POST", ${JSON.stringify(path)}, hs, ${JSON.stringify(body)})
end
`;
}

/** Refresh rotation: every response hands back the next refresh token of that connection's chain. */
export function luaRefresh(path: string, clientId: string, tokensFile: string, perThread: number): string {
  return `${luaThreadShare(tokensFile, perThread)}
function request()
  local t = table.remove(queue, 1)
  if t == nil then t = "exhausted" end
  return wrk.format("POST", ${JSON.stringify(path)}, { ["Content-Type"] = "application/x-www-form-urlencoded" },
    "grant_type=refresh_token&client_id=${clientId}&refresh_token=" .. t)
end
function response(status, headers, body)
  local t = string.match(body, '"refresh_token":"([^"]+)"')
  if t then table.insert(queue, t) end
end
`;
}

/**
 * Single-use inputs (authorization codes): each line of `file` ("code verifier") is sent once as
 * a code exchange; the thread stops when its lines are used up. Refresh tokens that come back are
 * appended to `refreshOut`. Prints BENCH ok/bad/us from done() (see runWrk). One thread.
 */
export function luaCodeExchange(path: string, clientId: string, redirectUri: string, file: string, refreshOut: string): string {
  return `
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_usec; } bench_timeval; int gettimeofday(bench_timeval *tv, void *tz); ]]
local function now_us()
  local tv = ffi.new("bench_timeval")
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000000 + tonumber(tv.tv_usec)
end
local queue = {}
ok = 0
bad = 0
first_us = 0
last_us = 0
local sent = 0
local answered = 0
local threads = {}
function setup(thread) table.insert(threads, thread) end
local out
function init(args)
  for line in io.lines(${JSON.stringify(file)}) do table.insert(queue, line) end
  out = io.open(${JSON.stringify(refreshOut)}, "a")
end
function request()
  local line = table.remove(queue)
  if line == nil then
    -- Used up: the thread idles on a path that answers 404 (not counted) until wrk's run ends.
    return wrk.format("GET", "/bench-exhausted")
  end
  if first_us == 0 then first_us = now_us() end
  sent = sent + 1
  local code, verifier = string.match(line, "^(%S+) (%S+)$")
  return wrk.format("POST", ${JSON.stringify(path)}, { ["Content-Type"] = "application/x-www-form-urlencoded" },
    "grant_type=authorization_code&client_id=${encodeURIComponent(clientId)}&redirect_uri=${encodeURIComponent(redirectUri)}&code=" .. code .. "&code_verifier=" .. verifier)
end
function response(status, headers, body)
  if status == 404 then return end
  answered = answered + 1
  last_us = now_us()
  if status == 200 and string.find(body, '"access_token"', 1, true) then
    ok = ok + 1
    local t = string.match(body, '"refresh_token":"([^"]+)"')
    if t then out:write(t, "\\n"); out:flush() end
  else
    bad = bad + 1
  end
end
function done(summary, latency, requests)
  local o, b, f, l = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok"); b = b + t:get("bad")
    local tf, tl = t:get("first_us"), t:get("last_us")
    if tf > 0 and (f == 0 or tf < f) then f = tf end
    if tl > l then l = tl end
  end
  io.write(string.format("BENCH ok=%d bad=%d us=%d\\n", o, b, l - f))
end
`;
}
