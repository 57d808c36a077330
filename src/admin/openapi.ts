// The admin API's OpenAPI 3.1 document, built from the same route specs that register the routes
// (served at /admin/openapi.json and shown by the interactive docs page, see admin/routes.ts).
import type { TSchema } from "@sinclair/typebox";
import { VERSION } from "../version";
import { AdminErrorSchema, type AdminRouteSpec } from "./spec";

const ERROR_TEXT: Record<number, string> = {
  400: "Invalid input: `fields` names every bad field",
  401: "No token, or an invalid, expired or revoked one",
  403: "Not from an allowed address, not an admin, or the token lacks the scope",
  404: "No such entry",
  409: "Conflicts with existing data (duplicate, system entry, last admin)",
  429: "Rate limit exceeded; see Retry-After",
};

function scopeText(scope: AdminRouteSpec["scope"]): string {
  if (scope === null) return "No token needed.";
  if (scope === "any") return "Requires an admin user's token with any admin scope; allowed while a password change is pending.";
  return `Requires an admin user's token with scope \`${scope}\`.`;
}

export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z_]+)/g, "{$1}");
}

function operationId(spec: AdminRouteSpec): string {
  const words = spec.path.replace(/^\/admin\//, "").replace(/:([A-Za-z_]+)/g, "by-$1").split(/[/-]/).filter(Boolean);
  return [spec.method.toLowerCase(), ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join("");
}

/** JSON-safe copy of a TypeBox schema (drops the symbol keys). */
function plain(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

export function buildOpenApi(specs: AdminRouteSpec[], serverUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorRef = { $ref: "#/components/schemas/Error" };
  for (const spec of specs) {
    const params = [
      ...Object.entries(spec.params ?? {}).map(([name, description]) => ({ name, in: "path", required: true, description, schema: { type: "string" } })),
      ...Object.entries(spec.query ?? {}).map(([name, q]) => ({ name, in: "query", required: false, description: q.description, schema: plain(q.schema) })),
    ];
    const statuses = [...new Set([...(spec.errors ?? []), ...(spec.scope ? [401] : []), 403, 429])].sort();
    const responses: Record<string, unknown> = {
      [String(spec.status ?? 200)]: { description: "Success", content: { "application/json": { schema: plain(spec.response) } } },
    };
    for (const s of statuses) responses[String(s)] = { description: ERROR_TEXT[s] ?? "Error", content: { "application/json": { schema: errorRef } } };
    const required = ((spec.body as { required?: string[] } | undefined)?.required ?? []).length > 0;
    paths[openApiPath(spec.path)] ??= {};
    paths[openApiPath(spec.path)]![spec.method.toLowerCase()] = {
      operationId: operationId(spec),
      tags: [spec.tag],
      summary: spec.summary,
      description: [spec.description, scopeText(spec.scope)].filter(Boolean).join("\n\n"),
      ...(spec.scope ? { security: [{ bearerAuth: spec.scope === "any" ? [] : [spec.scope] }], "x-required-scope": spec.scope } : { security: [] }),
      ...(params.length ? { parameters: params } : {}),
      ...(spec.body ? { requestBody: { required, content: { "application/json": { schema: plain(spec.body) } } } } : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Authly admin API",
      version: VERSION,
      description: "JSON admin API used by `authly admin`. Answers only from loopback unless configured otherwise; rate-limited per token or source.",
    },
    servers: [{ url: serverUrl }],
    tags: [
      { name: "system", description: "Health, status and signing keys" },
      { name: "clients", description: "OAuth clients" },
      { name: "resources", description: "API resources (RFC 8707, RFC 9728)" },
      { name: "scopes", description: "OAuth scopes" },
      { name: "users", description: "User accounts" },
      { name: "idps", description: "Upstream identity providers (federation)" },
      { name: "branding", description: "Product name, logo, colours and stylesheet of the pages and mails" },
    ],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "Access token of an admin user (RFC 9068), e.g. from `authly admin auth login`. A DPoP-bound token (the CLI's) is sent as `Authorization: DPoP <token>` with a `DPoP` proof header (RFC 9449 §7); as Bearer it is refused." } },
      schemas: { Error: plain(AdminErrorSchema) },
    },
  };
}
