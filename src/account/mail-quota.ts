// How many mails the self-service flows (sign-up, password reset, email change) may send to one
// address, or for one account, per window. Beyond it a flow gives the same answer and sends nothing,
// so none of its forms can be used to mail an address without limit. The counter is taken for every
// request, whether or not the address has an account (the same database work either way).
import type { Deps } from "../deps";
import { consumeRateLimit } from "../http/rate-limit";
import { sha256 } from "../lib/crypto";

export const MAIL_QUOTA = { perWindow: 3, windowSeconds: 15 * 60 } as const;

/** Counts one mail of `flow` to `address` (compared without case); false once over the quota. */
export async function mailToAddressAllowed(deps: Pick<Deps, "sql">, flow: string, address: string): Promise<boolean> {
  return (await consumeRateLimit(deps, `${flow}:addr:${sha256(address.toLowerCase())}`, MAIL_QUOTA.perWindow, MAIL_QUOTA.windowSeconds)).allowed;
}

/** Counts one mail of `flow` for the account `userId`; false once over the quota. */
export async function mailForAccountAllowed(deps: Pick<Deps, "sql">, flow: string, userId: string): Promise<boolean> {
  return (await consumeRateLimit(deps, `${flow}:user:${userId}`, MAIL_QUOTA.perWindow, MAIL_QUOTA.windowSeconds)).allowed;
}
