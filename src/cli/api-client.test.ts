// The admin CLI's HTTP client against a stand-in server: exit-code mapping of every status the
// admin API answers, one retry after a 429 with a short Retry-After, one refresh after a 401, and
// masking of secrets in debug output.
import { afterAll, describe, expect, test } from "bun:test";
import { ApiClient, maskSecrets, toApiError, type ApiError } from "./api-client";

let hits = 0;
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req) {
    const url = new URL(req.url);
    hits++;
    if (url.pathname === "/limited") return hits % 2 === 1 ? Response.json({ error: "rate_limited" }, { status: 429, headers: { "Retry-After": "1" } }) : Response.json({ ok: true });
    if (url.pathname === "/long-limit") return Response.json({ error: "rate_limited" }, { status: 429, headers: { "Retry-After": "3600" } });
    if (url.pathname === "/needs-fresh") return req.headers.get("authorization") === "Bearer fresh" ? Response.json({ ok: true }) : Response.json({ error: "unauthorized" }, { status: 401 });
    return Response.json({ error: "not_found", error_description: "nothing here" }, { status: 404 });
  },
});
afterAll(() => server.stop(true));
const base = `http://127.0.0.1:${server.port}`;

describe("ApiClient", () => {
  test("waits out a short Retry-After once, then succeeds", async () => {
    hits = 0;
    const api = new ApiClient({ baseUrl: base, timeoutSeconds: 10, debug: false, token: async () => "t" });
    expect(await api.get<{ ok: boolean }>("/limited")).toEqual({ ok: true });
    expect(hits).toBe(2);
  });

  test("a long Retry-After is not waited for: exit code 1 with the wait named", async () => {
    const api = new ApiClient({ baseUrl: base, timeoutSeconds: 10, debug: false, token: async () => "t" });
    const err = (await api.get("/long-limit").catch((e: unknown) => e)) as ApiError;
    expect(err.exitCode).toBe(1);
    expect(err.message).toBe("Too many requests");
    expect(err.detail).toContain("3600 s");
  });

  test("a 401 asks the token provider for a fresh token once and retries", async () => {
    const asked: boolean[] = [];
    const api = new ApiClient({ baseUrl: base, timeoutSeconds: 10, debug: false, token: async (force) => (asked.push(force), force ? "fresh" : "stale") });
    expect(await api.get<{ ok: boolean }>("/needs-fresh")).toEqual({ ok: true });
    expect(asked).toEqual([false, true]);
  });

  test("404 uses the command's wording", async () => {
    const api = new ApiClient({ baseUrl: base, timeoutSeconds: 10, debug: false, token: async () => "t" });
    const err = (await api.get("/nothing", { notFound: { message: "Client not found", detail: "Client ID 'x' does not exist or has been deleted." } }).catch((e: unknown) => e)) as ApiError;
    expect(err.exitCode).toBe(4);
    expect(err.message).toBe("Client not found");
  });
});

describe("exit codes of the guide (toApiError)", () => {
  const code = (status: number) => toApiError(status, { error: "x", error_description: "d" }, new Headers()).exitCode;
  test("401→2, 403→3, 404→4, 400/409/422→5, 429/500/503→1", () => {
    expect([401, 403, 404, 400, 409, 422, 429, 500, 503].map(code)).toEqual([2, 3, 4, 5, 5, 5, 1, 1, 1]);
  });
  test("field problems are listed under a validation error", () => {
    const e = toApiError(400, { error: "validation_error", error_description: "Invalid client", fields: [{ field: "redirect_uris[0]", message: "must be an absolute URI" }] }, new Headers());
    expect(e.message).toBe("Invalid client");
    expect(e.detail).toBe("  redirect_uris[0]: must be an absolute URI");
  });
});

test("maskSecrets hides tokens, secrets and passwords at any depth", () => {
  const masked = JSON.stringify(maskSecrets({ access_token: "eyJhbGciOiJFUzI1NiJ9.payload.sig", nested: [{ client_secret: "s3cr3t-value-long-enough", name: "keep" }], password: "hunter2" }));
  expect(masked).not.toContain("payload");
  expect(masked).not.toContain("s3cr3t");
  expect(masked).not.toContain("hunter2");
  expect(masked).toContain("keep");
});
