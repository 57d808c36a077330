// The account page's own sign-in (/account, src/account/): a built-in first-party client that exists
// only in code, never in the clients table, so the page signs in through the same interaction as
// every application (password, second factor, enrolment) and needs no bootstrap. Its MFA policy is
// `optional`: a user who enrolled a second factor uses it before managing the account.
import type { Deps } from "../deps";
import type { ClientRecord } from "../clients/model";
import type { PageUi } from "../http/page-frame";

export const ACCOUNT_CLIENT_ID = "authly-account";

export function accountRedirectUri(deps: Deps): string {
  return `${deps.config.issuer.replace(/\/+$/, "")}/account`;
}

export function accountClient(deps: Deps): ClientRecord {
  const epoch = new Date(0);
  return {
    id: "00000000-0000-0000-0000-00000000acc0",
    client_id: ACCOUNT_CLIENT_ID,
    client_type: "public",
    client_name: "your Authly account",
    secret_hash: null,
    previous_secret_hash: null,
    previous_secret_expires_at: null,
    redirect_uris: [accountRedirectUri(deps)],
    post_logout_redirect_uris: [],
    grant_types: ["authorization_code"],
    response_types: ["code"],
    scopes: ["openid"],
    token_endpoint_auth_method: "none",
    jwks: null,
    jwks_uri: null,
    client_uri: null,
    logo_uri: null,
    tos_uri: null,
    policy_uri: null,
    contacts: [],
    id_token_signed_response_alg: "RS256",
    access_token_ttl: null,
    refresh_token_ttl: null,
    require_consent: false,
    resources: [],
    default_resource: null,
    require_pushed_authorization_requests: false,
    dpop_bound_access_tokens: false,
    fapi_profile: null,
    is_first_party: true,
    backchannel_logout_uri: null,
    mfa: "optional",
    is_active: true,
    created_at: epoch,
    updated_at: epoch,
  };
}

/** The name a page shows for a client: the account page's built-in client speaks the page's language. */
export function clientDisplayName(client: Pick<ClientRecord, "client_id" | "client_name">, ui: PageUi): string {
  return client.client_id === ACCOUNT_CLIENT_ID ? ui.t("account.client_name", { product: ui.brand.productName }) : client.client_name;
}
