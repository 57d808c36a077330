// The profile fields a user may edit on the account page (OIDC Core §5.1 standard claims): name,
// given/family/middle name, nickname, preferred username, website, time zone and locale. Empty
// means "not set" (null). The email address has its own flow (email-change.ts); verified flags,
// username and admin fields are the admin's.
import type { Deps } from "../deps";
import { audit } from "../audit/service";
import { updateUser } from "../accounts/store";
import type { UserRecord } from "../accounts/model";
import type { MessageKey } from "../i18n";

export const PROFILE_FIELDS = [
  { key: "name", label: "profile.name", max: 200, autocomplete: "name" },
  { key: "given_name", label: "profile.given_name", max: 200, autocomplete: "given-name" },
  { key: "family_name", label: "profile.family_name", max: 200, autocomplete: "family-name" },
  { key: "middle_name", label: "profile.middle_name", max: 200, autocomplete: "additional-name" },
  { key: "nickname", label: "profile.nickname", max: 200, autocomplete: "nickname" },
  { key: "preferred_username", label: "profile.preferred_username", max: 200, autocomplete: "off" },
  { key: "website", label: "profile.website", max: 2000, autocomplete: "url", hint: "profile.website_hint" },
  { key: "zoneinfo", label: "profile.zoneinfo", max: 100, autocomplete: "off", hint: "profile.zoneinfo_hint" },
  { key: "locale", label: "profile.locale", max: 35, autocomplete: "language", hint: "profile.locale_hint" },
] as const satisfies readonly { key: string; label: MessageKey; max: number; autocomplete: string; hint?: MessageKey }[];
export type ProfileKey = (typeof PROFILE_FIELDS)[number]["key"];

const LOCALE = /^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$/;
let zones: Set<string> | undefined;
const timeZones = () => (zones ??= new Set([...Intl.supportedValuesOf("timeZone"), "UTC"]));

/** A field's problem: a catalogue key (the page draws it in its language; `{max}` is the field's limit). */
export type ProfileErrors = Record<string, MessageKey>;

/** Checks the submitted fields; returns the values to store or the problems (field -> message key). */
export function checkProfile(fields: Record<string, string | undefined>): { values: Record<ProfileKey, string | null> } | { errors: ProfileErrors } {
  const values = {} as Record<ProfileKey, string | null>;
  const errors: ProfileErrors = {};
  for (const f of PROFILE_FIELDS) {
    const v = (fields[f.key] ?? "").trim();
    values[f.key] = v === "" ? null : v;
    if (v.length > f.max) errors[f.key] = "profile.too_long";
  }
  if (values.website && !errors.website) {
    let ok = false;
    try {
      ok = ["http:", "https:"].includes(new URL(values.website).protocol);
    } catch {}
    if (!ok) errors.website = "profile.bad_website";
  }
  if (values.locale && !errors.locale && !LOCALE.test(values.locale)) errors.locale = "profile.bad_locale";
  if (values.zoneinfo && !errors.zoneinfo && !timeZones().has(values.zoneinfo)) errors.zoneinfo = "profile.bad_zoneinfo";
  return Object.keys(errors).length ? { errors } : { values };
}

/** Stores the profile and audits which fields changed (their names, not their values). */
export async function saveProfile(deps: Deps, user: UserRecord, values: Record<ProfileKey, string | null>, ip: string | null): Promise<string[]> {
  const changed = PROFILE_FIELDS.map((f) => f.key).filter((k) => (user[k] ?? null) !== values[k]);
  if (!changed.length) return [];
  await deps.sql.begin(async (tx) => {
    await updateUser(tx, user.id, Object.fromEntries(changed.map((k) => [k, values[k]])));
    await audit(deps, { action: "user.profile_updated", actor: user.id, targetType: "user", targetId: user.id, ip, details: { fields: changed, how: "account_page" } }, tx);
  });
  return changed;
}
