// An MCP-style agent built on oauth4webapi, knowing only the URL of a protected resource: it meets
// a 401 naming the resource's metadata (RFC 9728), discovers Authly from it (RFC 8414), registers
// itself (RFC 7591; separately, it is known by a client ID metadata document it serves), runs the
// code flow with PKCE and `resource` (RFC 8707) through the real login and consent pages, and calls
// the resource server, which verifies aud through the JWKS and introspects with its own credentials.
import { afterAll, describe, expect, test } from "bun:test";
import * as oauth from "oauth4webapi";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { startTestServer } from "../support/app";
import { createOidcUser } from "../support/oidc-fixtures";
import { Browser } from "../support/browser";
import { createResource } from "../../src/resources/service";

const srv = await startTestServer();
const user = await createOidcUser(srv.deps);
const insecure = { [oauth.allowInsecureRequests]: true } as const; // loopback servers speak plain HTTP
const REDIRECT = "http://127.0.0.1:7777/callback";

// The tiny resource server: an MCP endpoint guarded by Authly's tokens.
let rsCreds = { id: "", secret: "" };
const seenByRs: Record<string, unknown>[] = [];
const rs: ReturnType<typeof Bun.serve> = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req): Promise<Response> {
    const url = new URL(req.url);
    const origin = `http://127.0.0.1:${rs.port}`;
    const resource = `${origin}/mcp`;
    if (url.pathname === "/.well-known/oauth-protected-resource/mcp") {
      return Response.json({ resource, authorization_servers: [srv.url], scopes_supported: ["notes:read"], bearer_methods_supported: ["header"], resource_name: "Notes MCP" });
    }
    if (url.pathname === "/agent.json") {
      return Response.json({ client_id: `${origin}/agent.json`, client_name: "Notes Agent", redirect_uris: [REDIRECT], grant_types: ["authorization_code", "refresh_token"], token_endpoint_auth_method: "none" });
    }
    if (url.pathname !== "/mcp") return new Response("not found", { status: 404 });
    const challenge = { "WWW-Authenticate": `Bearer resource_metadata="${origin}/.well-known/oauth-protected-resource/mcp"` };
    const token = /^Bearer (.+)$/.exec(req.headers.get("authorization") ?? "")?.[1];
    if (!token) return new Response(null, { status: 401, headers: challenge });
    try {
      // RFC 9068 §4: signature through the JWKS, issuer, and this resource as the audience.
      await jwtVerify(token, createRemoteJWKSet(new URL(`${srv.url}/.well-known/jwks.json`)), { issuer: srv.url, audience: resource, typ: "at+jwt" });
    } catch {
      return new Response(null, { status: 401, headers: challenge });
    }
    // RFC 7662: still live? Asked with the resource server's own credentials.
    const intro = await fetch(`${srv.url}/oauth/introspect`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${btoa(`${encodeURIComponent(rsCreds.id)}:${encodeURIComponent(rsCreds.secret)}`)}` },
      body: new URLSearchParams({ token }).toString(),
    });
    const info = (await intro.json()) as Record<string, unknown>;
    seenByRs.push(info);
    if (!info.active) return new Response(null, { status: 401, headers: challenge });
    return Response.json({ notes: ["hello"], sub: info.sub, client_id: info.client_id });
  },
});
afterAll(() => rs.stop(true));
const resourceUrl = `http://127.0.0.1:${rs.port}/mcp`;

const created = await createResource(srv.deps, { userId: null, ip: null }, { identifier: resourceUrl, name: "Notes MCP", scopes: [{ name: "notes:read", description: "Read your notes" }], allow_any_client: true });
rsCreds = { id: created.client_id!, secret: created.client_secret! };

/** What the agent does first: call the resource, follow its metadata to the authorization server. */
async function discover(): Promise<{ as: oauth.AuthorizationServer; resource: string }> {
  const first = await fetch(resourceUrl);
  expect(first.status).toBe(401);
  const metadataUrl = /resource_metadata="([^"]+)"/.exec(first.headers.get("www-authenticate") ?? "")?.[1];
  expect(metadataUrl).toBe(`http://127.0.0.1:${rs.port}/.well-known/oauth-protected-resource/mcp`);
  const rsMeta = await oauth.processResourceDiscoveryResponse(new URL(resourceUrl), await oauth.resourceDiscoveryRequest(new URL(resourceUrl), insecure));
  const issuer = new URL(rsMeta.authorization_servers![0]!);
  const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: "oauth2", ...insecure }));
  return { as, resource: rsMeta.resource };
}

/** Code flow with PKCE and resource; the user signs in and consents on the real pages. */
async function runFlow(as: oauth.AuthorizationServer, client: oauth.Client, resource: string) {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({ client_id: client.client_id, redirect_uri: REDIRECT, response_type: "code", scope: "notes:read", state, resource, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256" }).toString();
  const b = Browser.forServer(srv.url);
  let page = await b.open(url.toString());
  page = await b.submit(page, "/login", { login: user.username, password: user.password });
  expect(page.html).toContain("Notes MCP");
  page = await b.submit(page, "/consent", { decision: "allow" });
  const params = oauth.validateAuthResponse(as, client, new URL(page.location!), state);
  const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT, verifier, { additionalParameters: { resource }, ...insecure });
  return oauth.processAuthorizationCodeResponse(as, client, response);
}

describe("an MCP-style agent with oauth4webapi", () => {
  test("protected-resource metadata -> discovery -> dynamic registration -> code + PKCE + resource -> the resource server accepts the token", async () => {
    const { as, resource } = await discover();
    expect(as.registration_endpoint).toBe(`${srv.url}/oauth/register`);
    const registered = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(as, { client_name: "Notes Agent", redirect_uris: [REDIRECT], grant_types: ["authorization_code", "refresh_token"], token_endpoint_auth_method: "none" }, insecure),
    );
    expect(registered.client_id).toBeTruthy();
    const client: oauth.Client = { client_id: registered.client_id, token_endpoint_auth_method: "none" };
    const tokens = await runFlow(as, client, resource);
    expect(tokens.scope).toBe("notes:read");

    const ok = await fetch(resourceUrl, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ sub: user.id, client_id: registered.client_id });
    expect(seenByRs.at(-1)).toMatchObject({ active: true, aud: resource });

    // A refresh keeps the audience; after revocation the resource server's introspection says no.
    const refreshed = await oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, insecure));
    expect((await fetch(resourceUrl, { headers: { authorization: `Bearer ${refreshed.access_token}` } })).status).toBe(200);
    await oauth.revocationRequest(as, client, oauth.None(), refreshed.access_token, insecure);
    expect((await fetch(resourceUrl, { headers: { authorization: `Bearer ${refreshed.access_token}` } })).status).toBe(401);
  });

  test("the same agent known by a client ID metadata document it serves", async () => {
    const { as, resource } = await discover();
    expect(as.client_id_metadata_document_supported).toBe(true);
    const client: oauth.Client = { client_id: `http://127.0.0.1:${rs.port}/agent.json`, token_endpoint_auth_method: "none" };
    const tokens = await runFlow(as, client, resource);
    const ok = await fetch(resourceUrl, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ client_id: client.client_id });
  });

  test("a token for another audience is refused by the resource server", async () => {
    const { as } = await discover();
    const registered = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(as, { redirect_uris: [REDIRECT], token_endpoint_auth_method: "none", grant_types: ["authorization_code"], scope: "openid" }, insecure),
    );
    const client: oauth.Client = { client_id: registered.client_id, token_endpoint_auth_method: "none" };
    const verifier = oauth.generateRandomCodeVerifier();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({ client_id: client.client_id, redirect_uri: REDIRECT, response_type: "code", scope: "openid", state: "x", code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256" }).toString();
    const b = Browser.forServer(srv.url);
    let page = await b.open(url.toString());
    page = await b.submit(page, "/login", { login: user.username, password: user.password });
    page = await b.submit(page, "/consent", { decision: "allow" });
    const params = oauth.validateAuthResponse(as, client, new URL(page.location!), "x");
    const res = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT, verifier, insecure);
    const body = (await res.json()) as { access_token: string };
    expect((await fetch(resourceUrl, { headers: { authorization: `Bearer ${body.access_token}` } })).status).toBe(401);
  });
});
