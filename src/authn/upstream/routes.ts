// The browser side of federation: GET /federation/start/:slug (from the login page or idp_hint),
// GET /federation/link/:slug (from /account, with the account page's CSRF token), the callback
// GET /federation/callback (our redirect_uri at every upstream), and POST
// /account/identities/:id/remove; for the upstream's server: POST /federation/backchannel-logout/:slug
// (Back-Channel Logout 1.0 §2.5, §2.8) and GET /federation/jwks/:slug (our private_key_jwt keys).
import { Elysia } from "elysia";
import type { Deps } from "../../deps";
import { audit } from "../../audit/service";
import { findUserById } from "../../accounts/store";
import { checkAccountCsrf } from "../../account/service";
import { seeOther } from "../../http/authorization-response";
import { json } from "../../http/error-handler";
import { backchannelLogout } from "../../oidc/backchannel-logout";
import { enforcePageRateLimit, enforceRateLimit } from "../../http/rate-limit";
import { requestInfo } from "../../http/request-context";
import { sourceKey } from "../../lib/source-key";
import { readFormBody } from "../../oauth/request-params";
import { resolveClient } from "../../registration/client-metadata-document";
import { ACCOUNT_CLIENT_ID, accountClient } from "../../interaction/account-client";
import { cookieSettings, readCookie, serializeCookie } from "../../interaction/cookies";
import { pageUi, problemResponse, type Problem } from "../../http/page-ui";
import type { MessageKey } from "../../i18n";
import { loadInteraction, saveInteraction } from "../../interaction/service";
import { endSession, loadSession, startFederatedSession } from "../../interaction/session";
import { resolveAccount } from "./accounts";
import { acceptUpstreamLogout } from "./backchannel-logout";
import { publicJwks } from "./client-key";
import { LogoutTokenError } from "./logout-token";
import { FederationError, FLOW_TTL_SECONDS, finishFlow, startFlow } from "./flow";
import * as store from "./store";

const RATE_WINDOW_SECONDS = 60;
/** Logout tokens one source address may post a minute (an upstream ending many sessions at once). */
export const UPSTREAM_LOGOUT_RATE_LIMIT_PER_MINUTE = 600;

const EXPIRED: Problem = { title: "error.expired_title", body: "error.expired_body", next: "error.expired_next" };
/** Failures a user can act on get their own words; the others the general "did not succeed". */
const FEDERATION_REASONS: Record<string, MessageKey> = {
  already_linked: "federation.already_linked",
  email_in_use: "federation.email_in_use",
  inactive: "federation.inactive",
  link_session: "federation.link_session",
  no_account: "federation.no_account",
};

export function federationRoutes(deps: Deps) {
  const base = new URL(deps.config.issuer).pathname.replace(/\/$/, "");
  const cookies = cookieSettings(deps.config);
  const flowCookie = `${cookies.secure ? "__Host-" : ""}authly_federation`;
  const findClient = async (c: string) => (c === ACCOUNT_CLIENT_ID ? accountClient(deps) : resolveClient(deps, c));
  const limit = (request: Request) => enforcePageRateLimit(deps, `federation:ip:${sourceKey(requestInfo(request).ip)}`, deps.config.authorizeRateLimitPerMinute, RATE_WINDOW_SECONDS);
  const redirectUpstream = (location: string, browserToken: string) => seeOther(location, [serializeCookie(cookies, flowCookie, browserToken, FLOW_TTL_SECONDS)]);

  return new Elysia({ name: "federation" })
    .get("/federation/start/:slug", async ({ request, params }) => {
      await limit(request);
      const id = new URL(request.url).searchParams.get("interaction") ?? "";
      const ia = await loadInteraction(deps, id, readCookie(request, cookies.browserName), findClient);
      if (!ia) return problemResponse(request, await pageUi(deps, request), 400, EXPIRED, "federation start without a live interaction in this browser");
      const idp = await store.findIdpBySlug(deps.sql, params.slug);
      // An unknown or disabled provider (a stale idp_hint) falls back to the login page.
      if (!idp || !idp.is_enabled) return seeOther(`${base}/interaction/${ia.id}`);
      const { location, browserToken } = await startFlow(deps, idp, { interactionId: ia.id });
      return redirectUpstream(location, browserToken);
    }, { detail: { tags: ["federation"], summary: "Sign in at an upstream identity provider" } })
    .get("/federation/link/:slug", async ({ request, params }) => {
      await limit(request);
      const session = await loadSession(deps, request);
      if (!session) return seeOther(`${base}/account`);
      if (!checkAccountCsrf(deps, session, new URL(request.url).searchParams.get("csrf_token") ?? undefined)) return seeOther(`${base}/account?done=invalid_form`);
      // Only an account signed in here (not through a provider) may add a provider to itself.
      if (session.upstream_idp_id) return seeOther(`${base}/account?done=identity_local_needed`);
      const idp = await store.findIdpBySlug(deps.sql, params.slug);
      if (!idp || !idp.is_enabled) return seeOther(`${base}/account`);
      const { location, browserToken } = await startFlow(deps, idp, { linkSessionId: session.id });
      return redirectUpstream(location, browserToken);
    }, { detail: { tags: ["federation"], summary: "Link an upstream identity to the signed-in account" } })
    .get("/federation/callback", async ({ request }) => {
      await limit(request);
      const ip = requestInfo(request).ip;
      const clear = serializeCookie(cookies, flowCookie, "", 0);
      let result;
      try {
        result = await finishFlow(deps, new URL(request.url).searchParams, readCookie(request, flowCookie));
        const session = await loadSession(deps, request);
        const who = await resolveAccount(deps, result, session, ip);
        if (who.kind === "linked") return seeOther(`${base}/account?done=identity_linked`, [clear]);
        const ia = result.interactionId ? await loadInteraction(deps, result.interactionId, readCookie(request, cookies.browserName), findClient) : undefined;
        if (!ia) return problemResponse(request, await pageUi(deps, request, { userId: who.userId }), 400, EXPIRED, "federation callback without a live interaction in this browser", { "Set-Cookie": clear });
        if (session) await endSession(deps, session);
        const started = await startFederatedSession(deps, { userId: who.userId, amr: result.amr, acr: result.acr, authTime: result.authTime, idpId: result.idp.id, upstreamSub: result.upstreamSub, upstreamSid: result.upstreamSid, ip, userAgent: request.headers.get("user-agent") });
        ia.state.loginSessionId = started.session.id;
        ia.state.passwordChangeFor = undefined;
        await saveInteraction(deps, ia);
        await audit(deps, { action: "login.success", actor: who.userId, targetType: "user", targetId: who.userId, ip, details: { via: "federation", idp: result.idp.slug, created: who.created } });
        return seeOther(`${base}/interaction/${ia.id}`, [started.cookie, clear]);
      } catch (err) {
        if (!(err instanceof FederationError)) throw err;
        await audit(deps, { action: "login.federation_failed", targetType: "idp", targetId: result?.idp.slug ?? err.idpSlug ?? null, outcome: "denied", ip, details: { reason: err.reason } });
        const provider = result?.idp.name ?? "";
        const specific = FEDERATION_REASONS[err.reason];
        const ui = await pageUi(deps, request);
        return problemResponse(request, ui, 400, { title: "error.upstream_failed_title", body: specific ?? "error.upstream_failed_body", next: specific ? undefined : "error.upstream_failed_next", params: { provider: provider || ui.t("error.upstream_provider") } }, `federation failed: ${err.reason}`, { "Set-Cookie": clear }, specific ? undefined : err.message);
      }
    }, { detail: { tags: ["federation"], summary: "Redirect URI of the upstream identity providers" } })
    .post("/federation/backchannel-logout/:slug", async ({ request, params }) => {
      const ip = requestInfo(request).ip;
      await enforceRateLimit(deps, `federation-logout:ip:${sourceKey(ip)}`, UPSTREAM_LOGOUT_RATE_LIMIT_PER_MINUTE, RATE_WINDOW_SECONDS);
      // §2.5: POST application/x-www-form-urlencoded with logout_token; §2.8: 200, or 400 on failure, never cached.
      const body = await readFormBody(request);
      if (!body) return json(400, { error: "invalid_request", error_description: "The logout request must be an application/x-www-form-urlencoded POST." });
      if (body.invalid.size || body.repeated.has("logout_token")) return json(400, { error: "invalid_request", error_description: "logout_token must be given once, as text." });
      try {
        const { ended } = await acceptUpstreamLogout(deps, params.slug, body.values.logout_token, ip);
        // Each ended session ends here like an RP-initiated logout: its grants issued without
        // offline_access are revoked, our relying parties get our logout tokens (in the background).
        for (const session of ended) await backchannelLogout(deps, session, ip);
        return new Response(null, { status: 200, headers: { "Cache-Control": "no-store" } });
      } catch (err) {
        if (err instanceof LogoutTokenError) return json(400, { error: "invalid_request", error_description: err.message });
        throw err;
      }
    }, { parse: "none", detail: { tags: ["federation"], summary: "Back-channel logout from an upstream OpenID Connect provider (its logout token ends our sessions)" } })
    .get("/federation/jwks/:slug", async ({ params }) => {
      const idp = await store.findIdpBySlug(deps.sql, params.slug);
      if (!idp || !idp.client_key_public) return json(404, { error: "not_found", error_description: "No keys are published under this name." });
      // Public keys only; a short cache lets a rotation reach the provider soon.
      return new Response(JSON.stringify(publicJwks(idp)), { status: 200, headers: { "Content-Type": "application/json", "Cache-Control": "public, max-age=300" } });
    }, { detail: { tags: ["federation"], summary: "Our JWK Set for private_key_jwt at one upstream provider" } })
    .post("/account/identities/:id/remove", async ({ request, params }) => {
      await limit(request);
      const session = await loadSession(deps, request);
      const body = await readFormBody(request);
      if (!session || !body || body.invalid.size || body.repeated.size || !checkAccountCsrf(deps, session, body.values.csrf_token)) return seeOther(`${base}/account?done=invalid_form`);
      const user = await findUserById(deps.sql, session.user_id);
      const linked = await store.listUserIdentities(deps.sql, session.user_id);
      // The last way in stays: an account without a password keeps its last linked identity.
      if (!user?.password_hash && linked.length <= 1 && linked.some((i) => i.id === params.id)) return seeOther(`${base}/account?done=identity_last`);
      if (await store.deleteUserIdentity(deps.sql, session.user_id, params.id)) {
        await audit(deps, { action: "identity.unlinked", actor: session.user_id, targetType: "user", targetId: session.user_id, ip: requestInfo(request).ip, details: { identity: params.id } });
      }
      return seeOther(`${base}/account?done=identity_removed`);
    }, { parse: "none", detail: { tags: ["account"], summary: "Remove a linked upstream identity" } });
}
