// What the client commands share: the Client JSON of the admin API, the metadata options of create
// and update (repeatable ones read from rawArgs) and how a client is printed.
import { DEVICE_CODE_GRANT, type Client as ApiClient } from "../../clients/model";
import { CliError, ExitCode } from "../../errors";
import { formatTime, printFields } from "../output";
import { collect, collectWords, flagPair } from "./shared";

/** The admin API's Client JSON (the server's schema is the contract), with the one-time secret. */
export type Client = ApiClient & { client_secret?: string };

export const AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"];
export const GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials", DEVICE_CODE_GRANT];
export const MFA_CHOICES = ["off", "optional", "required", "default"];
export const FAPI_CHOICES = ["fapi2-security", "none", "default"];

export const notFound = (id: string) => ({ message: "Client not found", detail: `Client ID '${id}' does not exist or has been deleted.` });
export const path = (id: string) => `/admin/clients/${encodeURIComponent(id)}`;

export const SECRET_WARNING = "⚠️  Save the client secret securely - it cannot be retrieved again!";

/** Options shared by create and update (the repeatable ones are read from rawArgs). */
export const metadataArgs = {
  "redirect-uri": { type: "string", valueHint: "URL", description: "Redirect URI (can be specified multiple times)" },
  "post-logout-redirect-uri": { type: "string", valueHint: "URL", description: "Post-logout redirect URI, OIDC RP-Initiated Logout (can be specified multiple times)" },
  scope: { type: "string", valueHint: "TEXT", description: 'Allowed scopes, space-separated ("read write") and/or repeated' },
  "grant-type": { type: "string", valueHint: "TEXT", description: `Grant type, repeatable: ${GRANT_TYPES.join(", ")} ("device_code" for short) (default: authorization_code + refresh_token; confidential without redirect URI: client_credentials)` },
  "auth-method": { type: "enum", options: AUTH_METHODS, description: "Token endpoint auth method (default: none for public, client_secret_basic for confidential)" },
  "jwks-uri": { type: "string", valueHint: "URL", description: "JWK Set URL of the client's keys (for private_key_jwt)" },
  "backchannel-logout-uri": { type: "string", valueHint: "URL", description: 'Where logout tokens are POSTed when a user\'s session ends, OIDC Back-Channel Logout (https; http only on loopback; "" removes it)' },
  "client-uri": { type: "string", valueHint: "URL", description: "Client homepage URL" },
  "logo-uri": { type: "string", valueHint: "URL", description: "Client logo URL" },
  "tos-uri": { type: "string", valueHint: "URL", description: "Terms of service URL" },
  "policy-uri": { type: "string", valueHint: "URL", description: "Privacy policy URL" },
  contacts: { type: "string", valueHint: "EMAIL", description: "Contact email (can be specified multiple times)" },
  resource: { type: "string", valueHint: "URI", description: "API resource the client may ask tokens for (RFC 8707; can be specified multiple times; replaces the list)" },
  "default-resource": { type: "string", valueHint: "URI", description: 'Resource of its tokens when a request names none (one of --resource; "" removes it)' },
  mfa: { type: "enum", options: MFA_CHOICES, description: "Second factor at this client: off, optional (users who enrolled one use it), required (users without one enrol at sign-in), default (the server's AUTHLY_MFA_POLICY)" },
  "require-consent": { type: "boolean", description: "Ask users for consent (default: yes)", negativeDescription: "Skip the consent page (first-party apps)" },
  "require-par": { type: "boolean", description: "Accept authorization requests only through PAR, RFC 9126 (default: no)", negativeDescription: "Accept plain authorization requests too" },
  "require-dpop": { type: "boolean", description: "Every token request must carry a DPoP proof: DPoP-bound access tokens only, RFC 9449 dpop_bound_access_tokens (default: no)", negativeDescription: "Accept token requests without a DPoP proof too" },
  "fapi-profile": { type: "enum", options: FAPI_CHOICES, description: "FAPI 2.0 Security Profile mode of this client: fapi2-security, none, or default (the server's AUTHLY_FAPI_PROFILE); see docs/fapi2.md" },
} as const;

export function metadataBody(rawArgs: string[], args: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const lists: [string, string, boolean][] = [
    ["redirect-uri", "redirect_uris", false],
    ["post-logout-redirect-uri", "post_logout_redirect_uris", false],
    ["grant-type", "grant_types", true],
    ["contacts", "contacts", false],
    ["resource", "resources", false],
  ];
  for (const [flag, field, words] of lists) {
    const values = words ? collectWords(rawArgs, flag) : collect(rawArgs, flag);
    if (values.length) body[field] = values;
  }
  // "device_code" is short for the device grant's URN (RFC 8628 §3.4).
  if (body.grant_types) body.grant_types = (body.grant_types as string[]).map((g) => (g === "device_code" ? DEVICE_CODE_GRANT : g));
  for (const g of (body.grant_types as string[] | undefined) ?? []) {
    if (!GRANT_TYPES.includes(g)) throw new CliError(`Unknown grant type: ${g}`, ExitCode.validation, `Use one of: ${GRANT_TYPES.join(", ")}.`);
  }
  const scopes = collectWords(rawArgs, "scope");
  if (scopes.length) body.scope = scopes.join(" ");
  const single: [string, string][] = [
    ["auth-method", "token_endpoint_auth_method"],
    ["jwks-uri", "jwks_uri"],
    ["client-uri", "client_uri"],
    ["logo-uri", "logo_uri"],
    ["tos-uri", "tos_uri"],
    ["policy-uri", "policy_uri"],
  ];
  for (const [flag, field] of single) if (typeof args[flag] === "string") body[field] = args[flag];
  const bcl = args["backchannel-logout-uri"];
  if (typeof bcl === "string") body.backchannel_logout_uri = bcl === "" ? null : bcl;
  const defaultResource = args["default-resource"];
  if (typeof defaultResource === "string") body.default_resource = defaultResource === "" ? null : defaultResource;
  const consent = flagPair(rawArgs, "require-consent", "no-require-consent");
  if (consent !== undefined) body.require_consent = consent;
  if (typeof args.mfa === "string") body.mfa = args.mfa === "default" ? null : args.mfa;
  const par = flagPair(rawArgs, "require-par", "no-require-par");
  if (par !== undefined) body.require_pushed_authorization_requests = par;
  const dpop = flagPair(rawArgs, "require-dpop", "no-require-dpop");
  if (dpop !== undefined) body.dpop_bound_access_tokens = dpop;
  if (typeof args["fapi-profile"] === "string") body.fapi_profile = args["fapi-profile"] === "default" ? null : args["fapi-profile"];
  return body;
}

export function printClient(c: Client): void {
  printFields([
    ["Client ID", c.client_id],
    ...(c.client_secret ? ([["Client Secret", c.client_secret]] as [string, unknown][]) : []),
    ["Name", c.client_name],
    ["Type", c.client_type],
    ["Auth method", c.token_endpoint_auth_method],
    ...(c.client_type === "confidential" && c.has_secret !== undefined
      ? ([["Client secret", c.has_secret ? "set (never shown again; regenerate-secret replaces it)" : "none"]] as [string, unknown][])
      : []),
    ...(c.previous_secret_expires_at ? ([["Previous secret valid until", `${formatTime(c.previous_secret_expires_at)} UTC`]] as [string, unknown][]) : []),
    ["Grant types", c.grant_types],
    ["Redirect URIs", c.redirect_uris],
    ["Post-logout redirect URIs", c.post_logout_redirect_uris],
    ["Scopes", (c.scope ?? "").split(" ").filter(Boolean)],
    ["Client URI", c.client_uri],
    ["Logo URI", c.logo_uri],
    ["Terms of service", c.tos_uri],
    ["Privacy policy", c.policy_uri],
    ["Contacts", c.contacts],
    ["JWKS URI", c.jwks_uri],
    ["Back-channel logout URI", c.backchannel_logout_uri],
    ["Resources", c.resources ?? []],
    ["Default resource", c.default_resource ?? null],
    ["Require consent", c.require_consent],
    ["MFA", c.mfa ?? "default (server policy)"],
    ["Require PAR", c.require_pushed_authorization_requests ?? false],
    ["Require DPoP", c.dpop_bound_access_tokens ?? false],
    ["FAPI profile", c.fapi_profile ?? "default (server setting)"],
    ["Status", c.is_active ? "active" : "inactive"],
    ["Created", formatTime(c.created_at)],
    ["Updated", formatTime(c.updated_at)],
  ]);
}

