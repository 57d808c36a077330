// `authly admin auth login --device`: the admin CLI signs in through the device authorization grant
// (RFC 8628) of its first-party client, so an admin signs in in any browser (with any factor the
// login page offers) while the terminal has no browser, or no password to type.
import { renderUnicodeCompact } from "uqr";
import { CliError, ExitCode } from "../../errors";
import { DEVICE_CODE_GRANT } from "../../clients/model";
import { success } from "../output";
import type { Me } from "./auth-password";
import { ADMIN_SCOPES, CLI_CLIENT, decodeJwt, tokensFrom, type AdminContext } from "./context";

interface DeviceAuthorization {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete?: string;
  expires_in: number;
  interval?: number;
}

type TokenBody = Parameters<typeof tokensFrom>[0];

/** RFC 8628 §3.5: 5 s when the server names no interval; slow_down adds 5 s. */
const DEFAULT_INTERVAL = 5;
const SLOW_DOWN = 5;
/** Never poll longer than this, whatever expires_in says. */
const MAX_WAIT_SECONDS = 3600;

export interface DeviceLoginOptions {
  /** Print a QR code of verification_uri_complete (on a terminal). */
  qr: boolean;
  /** Writes the instructions (standard output by default). */
  write?: (line: string) => void;
}

/** Requests a device code, shows where to approve it, polls until an answer; returns the tokens saved. */
export async function deviceLogin(ctx: AdminContext, opts: DeviceLoginOptions): Promise<{ username: string; scope: string }> {
  const write = opts.write ?? ((l: string) => console.log(l));
  const dpop = await ctx.prepareDpop();
  const res = await ctx.api.send("POST", "/oauth/device_authorization", { form: { client_id: CLI_CLIENT, scope: ADMIN_SCOPES.join(" ") } });
  if (res.status !== 200) throw deviceError(res.status, res.body as ErrorBody);
  const d = res.body as DeviceAuthorization;
  if (!d || typeof d.device_code !== "string" || typeof d.user_code !== "string" || typeof d.verification_uri !== "string") {
    throw new CliError("Login failed: the server's device authorization answer is not usable", ExitCode.general);
  }
  write(`To sign in, open ${d.verification_uri} in a browser and enter the code:`);
  write("");
  write(`    ${d.user_code}`);
  write("");
  if (d.verification_uri_complete) {
    write(`Or open ${d.verification_uri_complete}`);
    if (opts.qr) write(renderUnicodeCompact(d.verification_uri_complete, { border: 2 }));
  }
  write("Only approve a request you started yourself, here. Waiting for approval...");

  let interval = Math.max(1, Number(d.interval) || DEFAULT_INTERVAL);
  const deadline = Date.now() + Math.min(Math.max(1, Number(d.expires_in) || 0), MAX_WAIT_SECONDS) * 1000;
  let body: TokenBody | undefined;
  // Bounded in time (deadline) and in count (each turn waits at least one second).
  for (let polls = 0; polls < MAX_WAIT_SECONDS && Date.now() < deadline; polls++) {
    await Bun.sleep(interval * 1000);
    const r = await ctx.api.send("POST", "/oauth/token", { form: { grant_type: DEVICE_CODE_GRANT, device_code: d.device_code, client_id: CLI_CLIENT } });
    if (r.status === 200) {
      body = r.body as TokenBody;
      break;
    }
    const err = (r.body ?? {}) as ErrorBody;
    if (err.error === "authorization_pending") continue;
    if (err.error === "slow_down") {
      interval += SLOW_DOWN;
      continue;
    }
    if (err.error === "access_denied") throw new CliError("Login failed: the request was denied in the browser", ExitCode.auth);
    if (err.error === "expired_token") throw expired();
    throw deviceError(r.status, err);
  }
  if (!body) throw expired();
  const username = await whoIs(ctx, body.access_token);
  ctx.saveTokens(tokensFrom(body, { api_url: ctx.apiUrl, username, ...dpop }));
  success(`Successfully logged in as ${username}`);
  return { username, scope: typeof body.scope === "string" ? body.scope : "" };
}

/** The user name behind a fresh access token (the admin API says; else the token's subject). */
async function whoIs(ctx: AdminContext, accessToken: string): Promise<string> {
  const r = await ctx.api.send("GET", "/admin/me", {}, accessToken);
  if (r.status === 200 && typeof (r.body as Me)?.username === "string") return (r.body as Me).username;
  const sub = decodeJwt(accessToken)?.sub;
  return typeof sub === "string" ? sub : "unknown";
}

interface ErrorBody {
  error?: string;
  error_description?: string;
}

function expired(): CliError {
  return new CliError("Login failed: the code expired before it was approved", ExitCode.auth, "Run `authly admin auth login --device` again and approve the request sooner.");
}

function deviceError(status: number, body: ErrorBody): CliError {
  const desc = body?.error_description;
  switch (body?.error) {
    case "invalid_client":
    case "unauthorized_client":
      return new CliError("Login failed: the server does not accept device logins for the CLI", ExitCode.auth, desc ?? `The first-party client ${CLI_CLIENT} is missing or may not use the device grant (run \`authly migrate\` on the server).`);
    case "invalid_scope":
      return new CliError("Login failed: the admin scopes are not available", ExitCode.permission, desc);
    case "invalid_grant":
      return new CliError("Login failed: the device code is no longer valid", ExitCode.auth, desc);
  }
  if (status === 404) return new CliError("Login failed: this server has no device login", ExitCode.general, "Check --api-url / AUTHLY_ADMIN_API_URL, or use the password login.");
  if (status === 429) return new CliError("Login failed: too many attempts", ExitCode.auth, desc ?? "Try again in a minute.");
  return new CliError(`Login failed: the server answered ${status}`, ExitCode.general, desc ?? body?.error);
}
