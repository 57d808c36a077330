// GET /branding/theme.css: the theme stylesheet of the pages (colour variables and the admin's extra
// CSS, checked by branding/model.ts), served from our origin so the pages' CSP can stay 'self'.
// ?client= picks a client's theme; ?v= (the content hash in the pages' link) makes it cacheable.
import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { isValidText } from "../lib/text";
import { pageBrand } from "./service";

export function brandingRoutes(deps: Deps) {
  return new Elysia({ name: "branding" }).get("/branding/theme.css", async ({ request }) => {
    const q = new URL(request.url).searchParams;
    const client = q.get("client");
    const brand = await pageBrand(deps, client && client.length <= 2048 && isValidText(client) ? client : null);
    const etag = `"${new Bun.CryptoHasher("sha256").update(brand.css).digest("base64url").slice(0, 22)}"`;
    const headers = {
      "Content-Type": "text/css; charset=utf-8",
      // A versioned URL holds one content for good; the bare one is revalidated.
      "Cache-Control": q.get("v") ? "public, max-age=86400" : "no-cache",
      ETag: etag,
      "X-Content-Type-Options": "nosniff",
    };
    if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
    return new Response(brand.css, { headers });
  }, { detail: { tags: ["interaction"], summary: "The theme stylesheet of the pages (branding)" } });
}
