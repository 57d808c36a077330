// Test data of the front channel written straight to the database: users with a password and the
// OIDC standard claims, and registered relying parties with consent, logo and links.
import type { Deps } from "../../src/deps";
import { hashPassword, passwordParams } from "../../src/accounts/password";
import { generateClientSecret, hashClientSecret } from "../../src/clients/secrets";
import { randomToken } from "../../src/lib/crypto";

export interface OidcTestUser {
  id: string;
  username: string;
  email: string;
  password: string;
}

/** An active user with a known password and a full set of OIDC standard claims (OIDC Core §5.1). */
export async function createOidcUser(deps: Deps, over: Partial<{ username: string; email: string; password: string; name: string; is_active: boolean; is_admin: boolean }> = {}): Promise<OidcTestUser> {
  const suffix = randomToken(6).replace(/[^a-zA-Z0-9]/g, "x").toLowerCase();
  const username = over.username ?? `user_${suffix}`;
  const email = over.email ?? `${username}@example.com`;
  const password = over.password ?? `pw-${randomToken(12)}`;
  const hash = await hashPassword(password, passwordParams(deps.config));
  const address = { formatted: "12 St James's Square, London", street_address: "12 St James's Square", locality: "London", postal_code: "SW1Y 4LB", country: "GB" };
  const [row] = await deps.sql<{ id: string }[]>`
    INSERT INTO users (username, email, email_verified, password_hash, is_active, is_admin, name, given_name, family_name, nickname,
                       picture, website, gender, birthdate, zoneinfo, locale, phone_number, phone_number_verified, address)
    VALUES (${username}, ${email}, true, ${hash}, ${over.is_active ?? true}, ${over.is_admin ?? false}, ${over.name ?? "Ada Lovelace"}, 'Ada',
            'Lovelace', 'ada', 'https://example.com/ada.png', 'https://example.com', 'female', '1815-12-10', 'Europe/London', 'en-GB',
            '+44 20 7946 0000', true, ${deps.sql.json(address as never)})
    RETURNING id`;
  return { id: row!.id, username, email, password };
}

export interface OidcClientFixture {
  client_id?: string;
  client_type?: "public" | "confidential";
  client_name?: string;
  redirect_uris?: string[];
  post_logout_redirect_uris?: string[];
  grant_types?: string[];
  scopes?: string[];
  token_endpoint_auth_method?: string;
  require_consent?: boolean;
  is_first_party?: boolean;
  is_active?: boolean;
  logo_uri?: string | null;
  client_uri?: string | null;
  policy_uri?: string | null;
  tos_uri?: string | null;
  id_token_signed_response_alg?: string;
  backchannel_logout_uri?: string | null;
}

export interface OidcTestClient {
  client_id: string;
  client_secret?: string;
  redirect_uri: string;
  redirect_uris: string[];
}

/** A registered relying party (confidential with a known secret unless client_type is public), consent required. */
export async function createOidcClient(deps: Deps, f: OidcClientFixture = {}): Promise<OidcTestClient> {
  const type = f.client_type ?? "confidential";
  const clientId = f.client_id ?? `rp_${randomToken(9).replace(/[^a-zA-Z0-9]/g, "x")}`;
  const secret = type === "confidential" ? generateClientSecret() : undefined;
  const method = f.token_endpoint_auth_method ?? (type === "public" ? "none" : "client_secret_basic");
  const redirectUris = f.redirect_uris ?? ["https://rp.example.com/callback"];
  await deps.sql`
    INSERT INTO clients (client_id, client_type, client_name, secret_hash, redirect_uris, post_logout_redirect_uris, grant_types, scopes,
                         token_endpoint_auth_method, require_consent, is_first_party, is_active, logo_uri, client_uri, policy_uri, tos_uri,
                         id_token_signed_response_alg, backchannel_logout_uri)
    VALUES (${clientId}, ${type}, ${f.client_name ?? "Example App"}, ${secret ? hashClientSecret(deps, secret) : null}, ${redirectUris},
            ${f.post_logout_redirect_uris ?? ["https://rp.example.com/logged-out"]}, ${f.grant_types ?? ["authorization_code", "refresh_token"]},
            ${f.scopes ?? ["openid", "profile", "email", "address", "phone", "offline_access"]}, ${method}, ${f.require_consent ?? true},
            ${f.is_first_party ?? false}, ${f.is_active ?? true}, ${f.logo_uri ?? null}, ${f.client_uri ?? null}, ${f.policy_uri ?? null},
            ${f.tos_uri ?? null}, ${f.id_token_signed_response_alg ?? "RS256"}, ${f.backchannel_logout_uri ?? null})`;
  return { client_id: clientId, client_secret: secret, redirect_uri: redirectUris[0]!, redirect_uris: redirectUris };
}
