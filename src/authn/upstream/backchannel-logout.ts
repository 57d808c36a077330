// Back-channel logout from an upstream OpenID Connect provider, as its relying party (Back-Channel
// Logout 1.0 §2.5-2.8): a valid logout token (logout-token.ts), used once (jti per provider), ends
// the sessions here that were signed in through the upstream session or user it names, audited.
// The caller (routes.ts) then takes each ended session through our own logout (its online grants
// revoked, our relying parties told by our back-channel logout, §2.7): protocol work stays out of
// this domain (STYLE.md).
import type { Deps } from "../../deps";
import { audit, auditDenial } from "../../audit/service";
import { sha256 } from "../../lib/crypto";
import { LogoutTokenError, verifyLogoutToken } from "./logout-token";
import * as store from "./store";

export interface UpstreamLogoutResult {
  /** The sessions this token ended. */
  ended: { id: string; user_id: string }[];
}

/** Verifies the token and ends its sessions; throws LogoutTokenError (answered 400, audited as a denial). */
export async function acceptUpstreamLogout(deps: Deps, slug: string, token: string | undefined, ip: string): Promise<UpstreamLogoutResult> {
  const idp = await store.findIdpBySlug(deps.sql, slug);
  try {
    if (!idp) throw new LogoutTokenError("unknown_idp", "No identity provider is registered under this name.");
    if (!token) throw new LogoutTokenError("no_token", "The logout_token parameter is required.");
    const verified = await verifyLogoutToken(deps, idp, token);
    // §2.6 step 8: a jti seen before from this provider is a replay. The jti is taken in the
    // transaction that ends the sessions: a failure leaves neither, so the provider may send again.
    const sessions = await deps.sql.begin(async (tx) => {
      if (!(await store.recordLogoutJti(tx, idp.id, sha256(verified.jti), verified.replayUntil))) {
        throw new LogoutTokenError("replay", "This logout token was already used.");
      }
      return store.revokeUpstreamSessions(tx, idp.id, { sub: verified.sub, sid: verified.sid });
    });
    for (const session of sessions) {
      await audit(deps, {
        action: "logout.upstream",
        actor: session.user_id,
        targetType: "session",
        targetId: session.id,
        ip,
        details: { idp: idp.slug, by: verified.sid !== undefined ? "sid" : "sub" },
      });
    }
    return { ended: sessions };
  } catch (err) {
    if (err instanceof LogoutTokenError) {
      await auditDenial(deps, { action: "logout.upstream_refused", targetType: "idp", targetId: idp?.slug ?? null, ip, details: { reason: err.reason } });
    }
    throw err;
  }
}
