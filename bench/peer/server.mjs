// The peer of `bun run bench`: node-oidc-provider 9 (installed by bench/peer.ts into bench/.peer,
// never vendored) under Node.js, on loopback, with its in-memory adapter, the bench's clients and
// users, and a login interaction that verifies argon2id hashes made with Authly's parameters (the
// `argon2` npm package, the same cost as Bun.password). Its forms have the same field names as
// Authly's (login, password; decision=allow), so that one driver signs in on both.
//
//   node bench/peer/server.mjs   with PEER_PORT, PEER_CONFIG (JSON: clients, users, keys)
import http from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";

const require = createRequire(join(process.env.PEER_DIR, "package.json"));
const { default: Provider } = await import(require.resolve("oidc-provider"));
const argon2 = require("argon2");

const port = Number(process.env.PEER_PORT);
const config = JSON.parse(process.env.PEER_CONFIG);
const issuer = `http://127.0.0.1:${port}`;
const users = new Map(config.users.map((u) => [u.username, u]));
const byId = new Map(config.users.map((u) => [u.id, u]));

// In memory, without eviction: the provider's quick-start adapter is an LRU of 1000 entries, so
// under load its client_credentials tokens pushed out the codes and access tokens being measured.
// This one keeps every entry until it expires (the adapter interface of the provider's docs).
const stores = new Map();
class MemoryAdapter {
  constructor(name) {
    this.name = name;
    if (!stores.has(name)) stores.set(name, new Map());
    this.store = stores.get(name);
  }
  static grants = new Map();
  static uids = new Map();
  static userCodes = new Map();
  async upsert(id, payload, expiresIn) {
    this.store.set(id, { payload, until: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
    if (payload.grantId) {
      let ids = MemoryAdapter.grants.get(payload.grantId);
      if (!ids) MemoryAdapter.grants.set(payload.grantId, (ids = []));
      ids.push([this.name, id]);
    }
    if (payload.uid) MemoryAdapter.uids.set(payload.uid, id);
    if (payload.userCode) MemoryAdapter.userCodes.set(payload.userCode, id);
  }
  async find(id) {
    const e = this.store.get(id);
    if (!e) return undefined;
    if (e.until <= Date.now()) {
      this.store.delete(id);
      return undefined;
    }
    return e.payload;
  }
  async findByUid(uid) {
    const id = MemoryAdapter.uids.get(uid);
    return id ? this.find(id) : undefined;
  }
  async findByUserCode(userCode) {
    const id = MemoryAdapter.userCodes.get(userCode);
    return id ? this.find(id) : undefined;
  }
  async consume(id) {
    const e = this.store.get(id);
    if (e) e.payload.consumed = Math.floor(Date.now() / 1000);
  }
  async destroy(id) {
    this.store.delete(id);
  }
  async revokeByGrantId(grantId) {
    for (const [name, id] of MemoryAdapter.grants.get(grantId) ?? []) stores.get(name)?.delete(id);
    MemoryAdapter.grants.delete(grantId);
  }
}
// Expired entries go every 10 s.
setInterval(() => {
  const now = Date.now();
  for (const store of stores.values()) for (const [id, e] of store) if (e.until <= now) store.delete(id);
}, 10_000).unref();

const provider = new Provider(issuer, {
  adapter: MemoryAdapter,
  clients: config.clients,
  jwks: { keys: config.keys },
  scopes: ["openid", "offline_access", "profile", "email", "api:read", "api:write"],
  claims: { openid: ["sub"], profile: ["name", "preferred_username"], email: ["email", "email_verified"] },
  cookies: { keys: [config.cookieKey] },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    userinfo: { enabled: true },
  },
  pkce: { required: () => true },
  // As Authly: a client allowed the refresh_token grant gets a refresh token (Authly asks for
  // offline_access, which this provider keeps only with prompt=consent, OIDC Core §11).
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed("refresh_token"),
  findAccount: async (_ctx, id) => {
    const u = byId.get(id);
    if (!u) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, name: u.username, preferred_username: u.username, email: `${u.username}@example.test`, email_verified: true }) };
  },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError: async (ctx, out) => {
    ctx.type = "html";
    ctx.body = `<!doctype html><title>error</title><pre>${escape(JSON.stringify(out))}</pre>`;
  },
});
provider.on("server_error", (_ctx, err) => console.error("server_error", err));

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const page = (res, html) => {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  res.end(`<!doctype html><html><body>${html}</body></html>`);
};
const readForm = (req) =>
  new Promise((resolve, reject) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c) => {
      body += c;
      if (body.length > 65536) reject(new Error("body too large"));
    });
    req.on("end", () => resolve(new URLSearchParams(body)));
    req.on("error", reject);
  });

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error("interaction mismatch");
  const { prompt, params, session } = details;
  if (req.method === "GET") {
    if (prompt.name === "login") {
      return page(res, `<h1>Sign in</h1><form method="post" action="/interaction/${uid}/login"><input type="hidden" name="uid" value="${escape(uid)}"><input name="login"><input type="password" name="password"><button>Sign in</button></form>`);
    }
    return page(res, `<h1>${escape(params.client_id)} wants to access your account</h1><form method="post" action="/interaction/${uid}/consent"><input type="hidden" name="uid" value="${escape(uid)}"><button name="decision" value="allow">Allow</button></form>`);
  }
  const form = await readForm(req);
  if (action === "login") {
    const u = users.get(form.get("login") ?? "");
    const ok = u ? await argon2.verify(u.passwordHash, form.get("password") ?? "") : false;
    if (!ok) return page(res, `<h1>Sign in</h1><p>Wrong username or password</p>`);
    return provider.interactionFinished(req, res, { login: { accountId: u.id } }, { mergeWithLastSubmission: false });
  }
  if (action === "consent" && form.get("decision") === "allow") {
    const d = prompt.details;
    const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(" "));
    if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
    if (d.missingResourceScopes) for (const [indicator, scopes] of Object.entries(d.missingResourceScopes)) grant.addResourceScope(indicator, scopes.join(" "));
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  res.writeHead(400).end();
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  const m = /^\/interaction\/([A-Za-z0-9_-]+)(?:\/(login|consent))?$/.exec(req.url.split("?")[0]);
  if (m) {
    interaction(req, res, m[1], m[2]).catch((err) => {
      if (!res.headersSent) res.writeHead(400, { "content-type": "text/plain" });
      res.end(String(err?.message ?? err));
    });
    return;
  }
  if (req.url === "/health") return res.writeHead(200).end("ok");
  callback(req, res);
});
server.keepAliveTimeout = 60_000;
server.listen(port, "127.0.0.1", () => console.log(`peer listening on ${issuer}`));
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
