// The enabled upstream providers as the login page and the account page show them.
import type { Deps } from "../../deps";
import * as store from "./store";

function base(deps: Deps): string {
  return new URL(deps.config.issuer).pathname.replace(/\/$/, "");
}

/** Pages see a change of the enabled providers within this time (each process caches what it
 *  read, as for branding; a change made through this process is seen at once). A button shown
 *  for a provider disabled meanwhile leads to the start route, which checks the provider itself. */
export const PROVIDERS_CACHE_MS = 5000;

const cached = new WeakMap<Deps, { at: number; rows: Promise<{ name: string; slug: string }[]> }>();

/** The enabled providers' names and slugs: the login page shows them on every view, so they are
 *  read at most once per PROVIDERS_CACHE_MS (a failed read is not kept). */
function enabledProviders(deps: Deps): Promise<{ name: string; slug: string }[]> {
  const hit = cached.get(deps);
  if (hit && Date.now() - hit.at < PROVIDERS_CACHE_MS) return hit.rows;
  const rows = store.listIdps(deps.sql, true).then((r) => r.map(({ name, slug }) => ({ name, slug })));
  cached.set(deps, { at: Date.now(), rows });
  rows.catch(() => cached.get(deps)?.rows === rows && cached.delete(deps));
  return rows;
}

/** After a provider was created, changed or deleted here: the next page reads them again. */
export function forgetProviders(deps: Deps): void {
  cached.delete(deps);
}

/** A "Sign in with ..." link per enabled provider, starting there for this interaction. */
export async function loginProviders(deps: Deps, interactionId: string): Promise<{ name: string; href: string }[]> {
  const rows = await enabledProviders(deps);
  return rows.map((r) => ({ name: r.name, href: `${base(deps)}/federation/start/${encodeURIComponent(r.slug)}?interaction=${encodeURIComponent(interactionId)}` }));
}

/** The account page's section: linked identities (removable) and the providers one can link. */
export async function accountIdentities(deps: Deps, userId: string, csrf: string) {
  const [linked, idps] = await Promise.all([store.listUserIdentities(deps.sql, userId), enabledProviders(deps)]);
  return {
    linked: linked.map((i) => ({ id: i.id, provider: i.idp_name, email: i.email, createdAt: i.created_at, lastUsedAt: i.last_used_at })),
    linkable: idps.map((r) => ({ name: r.name, href: `${base(deps)}/federation/link/${encodeURIComponent(r.slug)}?csrf_token=${encodeURIComponent(csrf)}` })),
  };
}
