// The admin API's OpenAPI 3.1 document, built from the same route specs that register the routes,
// and a docs page rendered on the server from that document (no scripts, no CDN: works offline).
import type { TSchema } from "@sinclair/typebox";
import { escapeHtml } from "../http/html";
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
    ],
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT", description: "Access token of an admin user (RFC 9068), e.g. from `authly admin auth login`" } },
      schemas: { Error: plain(AdminErrorSchema) },
    },
  };
}

type Doc = ReturnType<typeof buildOpenApi>;

function schemaBlock(title: string, schema: unknown): string {
  return `<details><summary>${escapeHtml(title)}</summary><pre>${escapeHtml(JSON.stringify(schema, null, 2))}</pre></details>`;
}

/** A self-contained HTML page: every operation with its parameters, request and response schemas. */
export function renderDocsPage(doc: Doc): string {
  const sections: string[] = [];
  for (const tag of doc.tags) {
    const ops: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, raw] of Object.entries(methods)) {
        const op = raw as { tags: string[]; summary: string; description: string; parameters?: { name: string; in: string; description: string }[]; requestBody?: { content: Record<string, { schema: unknown }> }; responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }> };
        if (!op.tags.includes(tag.name)) continue;
        const params = op.parameters?.length
          ? `<table><thead><tr><th>Parameter</th><th>In</th><th>Description</th></tr></thead><tbody>${op.parameters.map((p) => `<tr><td><code>${escapeHtml(p.name)}</code></td><td>${escapeHtml(p.in)}</td><td>${escapeHtml(p.description)}</td></tr>`).join("")}</tbody></table>`
          : "";
        const body = op.requestBody ? schemaBlock("Request body (application/json)", op.requestBody.content["application/json"]!.schema) : "";
        const responses = Object.entries(op.responses)
          .map(([status, r]) => (r.content && !status.startsWith("4") ? schemaBlock(`${status} ${r.description}`, r.content["application/json"]!.schema) : `<p class="err"><b>${escapeHtml(status)}</b> ${escapeHtml(r.description)}</p>`))
          .join("");
        ops.push(`<section class="op" id="${escapeHtml(`${method}-${path}`)}"><h3><span class="m ${escapeHtml(method)}">${escapeHtml(method.toUpperCase())}</span> <code>${escapeHtml(path)}</code></h3><p><b>${escapeHtml(op.summary)}</b></p><p>${escapeHtml(op.description).replaceAll("\n\n", "</p><p>")}</p>${params}${body}${responses}</section>`);
      }
    }
    sections.push(`<h2 id="${escapeHtml(tag.name)}">${escapeHtml(tag.name)}</h2><p>${escapeHtml(tag.description)}</p>${ops.join("")}`);
  }
  const errorSchema = schemaBlock("Error body (every 4xx)", doc.components.schemas.Error);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(doc.info.title)} ${escapeHtml(doc.info.version)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1rem 1.5rem;color:#1c1e21;background:#fafbfc}h1{margin-bottom:.25rem}h2{margin-top:2rem;border-bottom:1px solid #ddd;text-transform:capitalize}.op{background:#fff;border:1px solid #e3e5e8;border-radius:8px;padding:.5rem 1rem;margin:1rem 0}.op h3{font-size:1rem;margin:.5rem 0}.m{display:inline-block;min-width:4rem;text-align:center;border-radius:4px;color:#fff;padding:.1rem .4rem;font-size:.8rem}.get{background:#2b6cb0}.post{background:#2f855a}.patch{background:#b7791f}.delete{background:#c53030}pre{background:#f4f5f7;padding:.75rem;overflow:auto;font-size:.8rem}table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #e3e5e8;padding:.25rem .5rem;text-align:left;font-size:.9rem}.err{margin:.2rem 0;font-size:.9rem;color:#555}nav a{margin-right:1rem}</style></head>
<body><main><h1>${escapeHtml(doc.info.title)}</h1><p>Version ${escapeHtml(doc.info.version)}. ${escapeHtml(doc.info.description)} The machine-readable document is at <a href="/admin/openapi.json">/admin/openapi.json</a>.</p>
<nav>${doc.tags.map((t) => `<a href="#${escapeHtml(t.name)}">${escapeHtml(t.name)}</a>`).join("")}</nav>${errorSchema}${sections.join("")}</main></body></html>`;
}
