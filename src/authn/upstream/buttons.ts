// The enabled upstream providers as the login page and the account page show them.
import type { Deps } from "../../deps";
import * as store from "./store";

function base(deps: Deps): string {
  return new URL(deps.config.issuer).pathname.replace(/\/$/, "");
}

/** A "Sign in with ..." link per enabled provider, starting there for this interaction. */
export async function loginProviders(deps: Deps, interactionId: string): Promise<{ name: string; href: string }[]> {
  const rows = await store.listIdps(deps.sql, true);
  return rows.map((r) => ({ name: r.name, href: `${base(deps)}/federation/start/${encodeURIComponent(r.slug)}?interaction=${encodeURIComponent(interactionId)}` }));
}

/** The account page's section: linked identities (removable) and the providers one can link. */
export async function accountIdentities(deps: Deps, userId: string, csrf: string) {
  const [linked, idps] = await Promise.all([store.listUserIdentities(deps.sql, userId), store.listIdps(deps.sql, true)]);
  return {
    linked: linked.map((i) => ({ id: i.id, provider: i.idp_name, email: i.email, createdAt: i.created_at, lastUsedAt: i.last_used_at })),
    linkable: idps.map((r) => ({ name: r.name, href: `${base(deps)}/federation/link/${encodeURIComponent(r.slug)}?csrf_token=${encodeURIComponent(csrf)}` })),
  };
}
