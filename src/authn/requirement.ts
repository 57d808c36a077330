// What a sign-in must still prove: the client's (or the server's) MFA policy, the admin rule, and
// what the authorization request asks for — acr_values (voluntary, OIDC Core §3.1.2.1) and an
// essential `acr` in the claims parameter (§5.5.1.1) — against what the session already proved.
// Pure: the service feeds it the user's enrolment and the session's amr.
import {
  ACR,
  atLeast,
  hasSecondFactor,
  levelOfAcr,
  levelOfAmr,
  maxLevel,
  reachableLevel,
  type AcrLevel,
  type Enrolment,
  type MfaPolicy,
} from "./model";

export interface AcrRequest {
  /** acr_values, space-separated, in order of preference. */
  acrValues?: string;
  /** claims.id_token.acr of the claims parameter. */
  essential?: { essential?: boolean; value?: unknown; values?: unknown[] } | null;
}

export type Requirement =
  | { kind: "satisfied"; level: AcrLevel }
  /** More factors are needed, reaching at least `level`. */
  | { kind: "factor"; level: AcrLevel }
  /** The user has no second factor and must enrol one (policy required, admin rule, essential mfa). */
  | { kind: "enrol"; level: AcrLevel }
  /** An essential acr the user cannot reach with what is enrolled (e.g. phr without a passkey). */
  | { kind: "unmet"; requested: string[] };

/** The policy in force for this user at this client. */
export function effectivePolicy(clientPolicy: MfaPolicy | null | undefined, serverPolicy: MfaPolicy, isAdmin: boolean, adminRequireMfa: boolean): MfaPolicy {
  if (isAdmin && adminRequireMfa) return "required";
  return clientPolicy ?? serverPolicy;
}

/** Requested acr values this server defines, as levels (unknown values are ignored). */
function levels(values: unknown[]): AcrLevel[] {
  return values.map(levelOfAcr).filter((l): l is AcrLevel => l !== undefined);
}

/**
 * The level an essential acr asks for: any of its values satisfies the request, and a stronger
 * level satisfies a weaker one (the levels are ordered), so the weakest requested value is the
 * minimum. undefined: no essential acr; null: essential, but no value this server defines.
 */
export function essentialLevel(spec: AcrRequest["essential"]): AcrLevel | null | undefined {
  if (!spec || spec.essential !== true) return undefined;
  const values = spec.values !== undefined ? (Array.isArray(spec.values) ? spec.values : []) : spec.value !== undefined ? [spec.value] : [];
  if (!values.length) return undefined; // essential with no value: return whatever acr there is
  const known = levels(values);
  if (!known.length) return null;
  return known.reduce((a, b) => (atLeast(b, a) ? a : b));
}

/** acr_values are voluntary: the first value (in the RP's order of preference) the user can reach. */
export function voluntaryLevel(acrValues: string | undefined, reachable: AcrLevel): AcrLevel | undefined {
  if (!acrValues) return undefined;
  return levels(acrValues.split(" ").filter(Boolean)).find((l) => atLeast(reachable, l));
}

export function requirement(input: { policy: MfaPolicy; enrolment: Enrolment; amr: readonly string[]; request?: AcrRequest }): Requirement {
  const { policy, enrolment } = input;
  const have = levelOfAmr(input.amr);
  const reachable = reachableLevel(enrolment);
  const second = hasSecondFactor(enrolment) || enrolment.recoveryCodes > 0;
  const policyLevel: AcrLevel = policy === "required" || (policy === "optional" && second) ? "mfa" : "pwd";
  const essential = essentialLevel(input.request?.essential);
  if (essential === null) return { kind: "unmet", requested: essentialValues(input.request?.essential) };
  // A non-essential acr in the claims parameter is a preference like acr_values (§5.5.1.1).
  const spec = input.request?.essential;
  const preferred = spec && spec.essential !== true ? (spec.values ?? (spec.value !== undefined ? [spec.value] : [])) : [];
  const asked = [input.request?.acrValues, ...(Array.isArray(preferred) ? preferred.filter((v): v is string => typeof v === "string") : [])].filter(Boolean).join(" ");
  const voluntary = voluntaryLevel(asked || undefined, reachable);
  const target = maxLevel(policyLevel, essential ?? "pwd", voluntary ?? "pwd");
  if (atLeast(have, target)) return { kind: "satisfied", level: have };
  if (atLeast(reachable, target)) return { kind: "factor", level: target };
  // Not reachable with what is enrolled: a second factor can be enrolled now (mfa); a passkey
  // cannot be demanded of someone who has none (phr).
  if (target === "mfa" && !second) return { kind: "enrol", level: "mfa" };
  return { kind: "unmet", requested: essentialValues(input.request?.essential) };
}

function essentialValues(spec: AcrRequest["essential"]): string[] {
  if (!spec) return [];
  const v = spec.values ?? (spec.value !== undefined ? [spec.value] : []);
  return (Array.isArray(v) ? v : []).filter((x): x is string => typeof x === "string");
}

export { ACR };
