// RP-Initiated Logout 1.0: validates id_token_hint, client_id and post_logout_redirect_uri (exact
// match with a registered URI, §2-3), and decides whether to end the session at once (a verified
// hint for the signed-in user) or to ask the user first. An unverified hint never ends anything.
import type { Deps } from "../deps";
import { OAuthError } from "../errors";
import type { ClientRecord } from "../clients/model";
import { resolveClient } from "../registration/client-metadata-document";
import { hashSecret, safeEqual } from "../lib/crypto";
import { fieldLabel } from "../lib/text";
import type { ParsedParams } from "../oauth/request-params";
import { verifyIdTokenHint, type VerifiedHint } from "./id-token-hint";

export interface LogoutRequest {
  client?: ClientRecord;
  hint?: VerifiedHint;
  postLogoutRedirectUri?: string;
  state?: string;
}

function invalid(description: string): OAuthError {
  return new OAuthError("invalid_request", description, { html: true, page: "logout" });
}

export async function validateLogoutRequest(deps: Deps, params: ParsedParams): Promise<LogoutRequest> {
  if (params.invalid.size) throw invalid(`Not valid text (UTF-8 without NUL): ${[...params.invalid].map(fieldLabel).sort().join(", ")}`);
  if (params.repeated.size) throw invalid(`Parameters may not be repeated: ${[...params.repeated].sort().join(", ")}`);
  const p = params.values;
  let hint: VerifiedHint | undefined;
  if (p.id_token_hint !== undefined) {
    hint = await verifyIdTokenHint(deps, p.id_token_hint);
    if (!hint) throw invalid("The id_token_hint is not an ID token issued by this server.");
  }
  let clientId = p.client_id;
  if (clientId !== undefined && hint && !hint.aud.includes(clientId)) throw invalid("The id_token_hint was not issued to this client_id.");
  if (clientId === undefined && hint?.aud.length === 1) clientId = hint.aud[0];
  let client: ClientRecord | undefined;
  if (clientId !== undefined) {
    client = await resolveClient(deps, clientId);
    if (!client || !client.is_active) throw invalid("The application that sent you here is not registered with this server.");
  }
  const uri = p.post_logout_redirect_uri;
  if (uri !== undefined) {
    if (!client) throw invalid("A post_logout_redirect_uri needs client_id or id_token_hint to identify the application.");
    if (!client.post_logout_redirect_uris.includes(uri)) throw invalid("The post_logout_redirect_uri is not registered for this application, so you are not sent back to it.");
  }
  return { client, hint, postLogoutRedirectUri: uri, state: uri !== undefined ? p.state : undefined };
}

/** True when the verified hint names the user of the session (then no confirmation is needed). */
export function hintMatchesSession(hint: VerifiedHint | undefined, session: { id: string; user_id: string }): boolean {
  return hint !== undefined && hint.sub === session.user_id;
}

/** CSRF token of the logout confirmation form, bound to the browser's session. */
export function logoutCsrf(deps: Deps, session: { token_hash: string }): string {
  return hashSecret(deps.peppers.secrets, `logout:${session.token_hash}`);
}

export function checkLogoutCsrf(deps: Deps, session: { token_hash: string }, submitted: string | undefined): boolean {
  return submitted !== undefined && safeEqual(submitted, logoutCsrf(deps, session));
}
