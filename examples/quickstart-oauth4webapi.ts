// Quickstart, part 2 (docs/quickstart.md): sign in with a real OpenID Connect library.
// Run: CLIENT_ID=<id> bun examples/quickstart-oauth4webapi.ts   (AUTHLY_ISSUER, REDIRECT_URI optional)
import * as oauth from "oauth4webapi";

const issuer = new URL(process.env.AUTHLY_ISSUER ?? "http://localhost:8000");
const redirectUri = process.env.REDIRECT_URI ?? "http://127.0.0.1:8080/callback";
const client: oauth.Client = { client_id: process.env.CLIENT_ID! };
const http = { [oauth.allowInsecureRequests]: issuer.protocol === "http:" }; // local http only

const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: "oidc", ...http }));
const verifier = oauth.generateRandomCodeVerifier();
const state = oauth.generateRandomState();
const nonce = oauth.generateRandomNonce();
const url = new URL(as.authorization_endpoint!);
url.search = new URLSearchParams({ client_id: client.client_id, redirect_uri: redirectUri, response_type: "code", scope: "openid profile email", state, nonce, code_challenge: await oauth.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256" }).toString();
console.log(`Open this URL in your browser and sign in:\n${url}\n`);

// The redirect URI is served here once: it receives the code (or the error) and stops.
const callback = await new Promise<URL>((resolve) => {
  const cb = new URL(redirectUri);
  const server = Bun.serve({ hostname: cb.hostname, port: Number(cb.port), fetch(req) {
    resolve(new URL(req.url));
    setTimeout(() => server.stop(), 100);
    return new Response("Signed in. You can close this tab and go back to the terminal.");
  } });
});

const params = oauth.validateAuthResponse(as, client, callback, state);
const response = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, redirectUri, verifier, http);
const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: nonce, requireIdToken: true });
const claims = oauth.getValidatedIdTokenClaims(tokens)!;
console.log("ID token claims:", JSON.stringify(claims, null, 2));
const userinfo = await oauth.processUserInfoResponse(as, client, claims.sub, await oauth.userInfoRequest(as, client, tokens.access_token, http));
console.log("UserInfo:", JSON.stringify(userinfo, null, 2));
