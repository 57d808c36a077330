// OAuth client model (RFC 7591 metadata names where they exist) and its TypeBox schemas.
import { Type as t, type Static } from "@sinclair/typebox";

export const ClientType = t.Union([t.Literal("public"), t.Literal("confidential")]);
export type ClientType = Static<typeof ClientType>;

export const AuthMethod = t.Union([
  t.Literal("client_secret_basic"),
  t.Literal("client_secret_post"),
  t.Literal("private_key_jwt"),
  t.Literal("none"),
]);
export type AuthMethod = Static<typeof AuthMethod>;

/** A client as stored (the secret only as its hash). */
export interface ClientRecord {
  id: string;
  client_id: string;
  client_type: ClientType;
  client_name: string;
  secret_hash: string | null;
  previous_secret_hash: string | null;
  previous_secret_expires_at: Date | null;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: string[];
  response_types: string[];
  scopes: string[];
  token_endpoint_auth_method: AuthMethod;
  jwks: { keys: Record<string, unknown>[] } | null;
  jwks_uri: string | null;
  client_uri: string | null;
  logo_uri: string | null;
  tos_uri: string | null;
  policy_uri: string | null;
  contacts: string[];
  id_token_signed_response_alg: string;
  access_token_ttl: number | null;
  refresh_token_ttl: number | null;
  require_consent: boolean;
  is_first_party: boolean;
  backchannel_logout_uri: string | null;
  is_active: boolean;
  created_at: Date;
  updated_at: Date;
}

/** The built-in first-party client of the admin CLI (created at bootstrap). */
export const CLI_CLIENT_ID = "authly-cli";
