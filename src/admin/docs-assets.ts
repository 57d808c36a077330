// The Swagger UI files of the admin API's docs page (/admin/docs), embedded into the binary
// (`with { type: "file" }`, as db/embedded.ts does for PGlite) and served by Authly itself: no CDN,
// so the page works offline and under a same-origin Content-Security-Policy.
import swaggerUiBundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };
import swaggerUiCss from "swagger-ui-dist/swagger-ui.css" with { type: "file" };
import { createHash } from "node:crypto";

export interface DocsAsset {
  /** URL path the page loads it from. */
  path: string;
  contentType: string;
  /** Embedded file (a /$bunfs/ path in the compiled binary). */
  file: string;
}

export const DOCS_SCRIPT: DocsAsset = { path: "/admin/docs/swagger-ui-bundle.js", contentType: "text/javascript; charset=utf-8", file: swaggerUiBundle };
export const DOCS_STYLESHEET: DocsAsset = { path: "/admin/docs/swagger-ui.css", contentType: "text/css; charset=utf-8", file: swaggerUiCss };
export const DOCS_ASSETS: DocsAsset[] = [DOCS_SCRIPT, DOCS_STYLESHEET];

/**
 * The docs page's Content-Security-Policy, computed from the page itself. @elysiajs/openapi renders
 * Swagger UI's start call (`SwaggerUIBundle({...})`) as an inline <script>, which our usual
 * `default-src 'none'` would block: this page alone allows exactly that script by its SHA-256 hash,
 * plus same-origin files (the embedded bundle and stylesheet), same-origin fetches (the OpenAPI
 * document and "Try it out" calls) and data: images (Swagger UI's icons). Nothing else: no CDN, no
 * 'unsafe-inline' script, no framing.
 */
export function docsPagePolicy(html: string): string {
  const hashes = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => `'sha256-${createHash("sha256").update(m[1]!).digest("base64")}'`);
  return [
    "default-src 'none'",
    `script-src 'self' ${hashes.join(" ")}`.trim(),
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join("; ");
}
