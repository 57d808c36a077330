// The token endpoint's context and successful response (RFC 6749 §5.1: JSON, no caching).
import type { ClientRecord, AuthMethod } from "../clients/model";
import type { Deps } from "../deps";
import type { FormParams } from "./form";

export interface TokenContext {
  deps: Deps;
  form: FormParams;
  client: ClientRecord;
  method: AuthMethod;
  ip: string;
  /** isLoopbackClient: on this host and not relayed by an untrusted proxy. */
  loopback: boolean;
}

export interface TokenResponseBody {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

export const NO_STORE_JSON = { "Content-Type": "application/json", "Cache-Control": "no-store", Pragma: "no-cache" } as const;

export function tokenResponse(body: TokenResponseBody): Response {
  return new Response(JSON.stringify(body), { status: 200, headers: NO_STORE_JSON });
}
