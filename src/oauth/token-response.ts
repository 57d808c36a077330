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
  /** RFC 9449: the thumbprint of the key of the request's verified DPoP proof, if it had one. */
  dpopJkt?: string;
}

export interface TokenResponseBody {
  access_token: string;
  token_type: "Bearer" | "DPoP";
  expires_in: number;
  scope: string;
  refresh_token?: string;
  id_token?: string;
}

export const NO_STORE_JSON = { "Content-Type": "application/json", "Cache-Control": "no-store", Pragma: "no-cache" } as const;

/** RFC 9449 §5: a token bound to a DPoP key is of type DPoP. */
export function tokenType(jkt: string | undefined): TokenResponseBody["token_type"] {
  return jkt ? "DPoP" : "Bearer";
}

export function tokenResponse(body: TokenResponseBody, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status: 200, headers: { ...NO_STORE_JSON, ...headers } });
}
