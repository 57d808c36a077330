// Registering an API resource from its protected resource metadata (RFC 9728 §3): the document is
// fetched through safeFetch (outbound rules, caps), its `resource` must equal the identifier the
// well-known URL was built from (§3.3), and it names the resource and its scopes.
import type { Deps } from "../deps";
import type { Actor } from "../audit/service";
import { ValidationError } from "../errors";
import { OutboundError, outboundPolicy, safeFetch } from "../lib/outbound";
import { parseJsonSafely, decodeUtf8 } from "../lib/text";
import { assertSchema } from "../lib/validate";
import { ResourceFromMetadata, resourceIdentifierProblem } from "./model";
import { createResource } from "./service";

export const WELL_KNOWN = "/.well-known/oauth-protected-resource";
/** Bounds of the fetch (docs/apis.md). */
export const METADATA_MAX_BYTES = 64 * 1024;
export const METADATA_TIMEOUT_MS = 5000;

/** RFC 9728 §3.1: the well-known segment goes between the host and the resource's path. */
export function metadataUrlFor(identifier: string): string {
  const u = new URL(identifier);
  const path = u.pathname === "/" ? "" : u.pathname;
  return `${u.origin}${WELL_KNOWN}${path}`;
}

/** The resource identifier a metadata URL was built from, or undefined when it is not one. */
function identifierOf(metadataUrl: URL): string | undefined {
  if (!metadataUrl.pathname.startsWith(WELL_KNOWN)) return undefined;
  const rest = metadataUrl.pathname.slice(WELL_KNOWN.length);
  if (rest && !rest.startsWith("/")) return undefined;
  return `${metadataUrl.origin}${rest}`;
}

function urlProblem(message: string): ValidationError {
  return new ValidationError(`The protected resource metadata could not be used: ${message}`, [{ field: "url", message }]);
}

export async function createResourceFromMetadata(deps: Deps, actor: Actor, body: unknown) {
  const input = assertSchema<ResourceFromMetadata>(ResourceFromMetadata, body);
  let url: URL;
  try {
    url = new URL(input.url);
  } catch {
    throw urlProblem("must be an absolute https URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw urlProblem("must be an https URL");
  const expected = identifierOf(url) ?? input.url;
  const idProblem = resourceIdentifierProblem(expected);
  if (idProblem) throw urlProblem(`the resource identifier ${idProblem}`);
  const metadataUrl = identifierOf(url) ? url.toString() : metadataUrlFor(expected);
  let doc: Record<string, unknown>;
  try {
    const res = await safeFetch(metadataUrl, { headers: { Accept: "application/json" } }, { ...outboundPolicy(deps.config), maxBytes: METADATA_MAX_BYTES, timeoutMs: METADATA_TIMEOUT_MS });
    if (res.status !== 200) throw urlProblem(`${metadataUrl} answered HTTP ${res.status}`);
    const text = decodeUtf8(res.body);
    const parsed = text === undefined ? undefined : parseJsonSafely(text);
    if (!parsed?.ok || typeof parsed.value !== "object" || parsed.value === null || Array.isArray(parsed.value)) throw urlProblem("the document is not a JSON object");
    doc = parsed.value as Record<string, unknown>;
  } catch (err) {
    if (err instanceof OutboundError) throw urlProblem(err.message);
    throw err;
  }
  // RFC 9728 §3.3: a document naming another resource must not be used.
  if (doc.resource !== expected) throw urlProblem(`its "resource" must be ${expected} (RFC 9728 §3.3)`);
  const scopes = Array.isArray(doc.scopes_supported) ? doc.scopes_supported.filter((s): s is string => typeof s === "string") : [];
  const docName = typeof doc.resource_name === "string" && doc.resource_name.trim() ? doc.resource_name.trim().slice(0, 200) : undefined;
  return createResource(deps, actor, { identifier: expected, name: input.name ?? docName ?? expected.slice(0, 200), scopes: scopes.map((name) => ({ name })) });
}
