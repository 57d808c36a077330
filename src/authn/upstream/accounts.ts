// Which local account an upstream sign-in is. The rules (docs/front-channel.md, "Upstream identity
// providers"):
// - a linked identity (provider, subject) is that account, whatever its email says now;
// - an identity is linked to an existing account only from that account: signed in locally (not
//   through a provider) in this browser, the user starts "Link" on /account;
// - an unlinked identity whose email belongs to a local account is refused, verified or not: the
//   owner must sign in locally and link. An email match never links by itself;
// - otherwise, when the provider allows it, a local user is created just in time from the mapped
//   claims (no password; the email is marked verified only when the upstream said email_verified).
import type { Deps } from "../../deps";
import { audit } from "../../audit/service";
import { findUserById } from "../../accounts/store";
import { USERNAME_PATTERN } from "../../accounts/model";
import { randomToken } from "../../lib/crypto";
import type { Session } from "../../interaction/session";
import { FederationError, type CallbackResult } from "./flow";
import * as store from "./store";

export type Resolution = { kind: "signin"; userId: string; created: boolean } | { kind: "linked"; userId: string };

const USERNAME = new RegExp(USERNAME_PATTERN);

export async function resolveAccount(deps: Deps, r: CallbackResult, session: Session | undefined, ip: string): Promise<Resolution> {
  const { idp, profile } = r;
  const found = await store.findIdentity(deps.sql, idp.id, profile.subject);
  if (r.linkSessionId) {
    // Linking: the browser still holds the local session that asked for it.
    if (!session || session.id !== r.linkSessionId || session.upstream_idp_id) throw new FederationError("link_session", "Linking needs the local sign-in that started it. Sign in with your password and start again from your account page.");
    if (found && found.user_id !== session.user_id) throw new FederationError("already_linked", `This ${idp.name} account is already linked to another account here.`);
    if (!found) {
      const row = await store.insertIdentity(deps.sql, { userId: session.user_id, idpId: idp.id, subject: profile.subject, email: profile.email ?? null });
      if (!row) throw new FederationError("already_linked", `This ${idp.name} account is already linked to another account here.`);
      await audit(deps, { action: "identity.linked", actor: session.user_id, targetType: "user", targetId: session.user_id, ip, details: { idp: idp.slug } });
    }
    return { kind: "linked", userId: session.user_id };
  }
  if (found) {
    const user = await findUserById(deps.sql, found.user_id);
    if (!user || !user.is_active) throw new FederationError("inactive", "This account is disabled.");
    await store.touchIdentity(deps.sql, found.id);
    return { kind: "signin", userId: user.id, created: false };
  }
  if (profile.email && (await store.emailInUse(deps.sql, profile.email))) {
    await audit(deps, { action: "identity.link_refused", targetType: "idp", targetId: idp.slug, outcome: "denied", ip, details: { reason: "email_in_use", email_verified: profile.emailVerified } });
    throw new FederationError("email_in_use", `An account with this email address already exists here. Sign in with your password, then link ${idp.name} on your account page.`);
  }
  if (!idp.create_users) throw new FederationError("no_account", `No account here is linked to this ${idp.name} account.`);
  return { kind: "signin", userId: await createUser(deps, r, ip), created: true };
}

/** Just-in-time provisioning; a concurrent first sign-in of the same identity lands on one user. */
async function createUser(deps: Deps, r: CallbackResult, ip: string): Promise<string> {
  const { idp, profile } = r;
  const wanted = profile.username && USERNAME.test(profile.username) ? profile.username : `${idp.slug}-${profile.subject}`.replace(/[^A-Za-z0-9._@+-]/g, "-").slice(0, 64);
  for (let attempt = 0; attempt < 5; attempt++) {
    const username = attempt === 0 ? wanted : `${wanted.slice(0, 55)}-${randomToken(6).replace(/[^A-Za-z0-9]/g, "x").toLowerCase()}`;
    const outcome: { userId?: string; lost?: boolean; retry?: boolean } = await deps.sql.begin(async (tx) => {
      const user = await store.insertFederatedUser(tx, username, profile);
      if (!user) return { retry: true } as const;
      const identity = await store.insertIdentity(tx, { userId: user.id, idpId: idp.id, subject: profile.subject, email: profile.email ?? null });
      if (!identity) throw new LostRace();
      await audit(deps, { action: "user.create", actor: user.id, targetType: "user", targetId: user.id, ip, details: { via: "federation", idp: idp.slug } }, tx);
      return { userId: user.id } as const;
    }).catch((err) => {
      if (err instanceof LostRace) return { lost: true } as const;
      throw err;
    });
    if (outcome.userId) return outcome.userId;
    if (outcome.lost) {
      const found = await store.findIdentity(deps.sql, idp.id, profile.subject);
      if (found) return found.user_id;
    }
  }
  throw new FederationError("no_username", "No account could be created for this sign-in. Ask an administrator.");
}

class LostRace extends Error {}
