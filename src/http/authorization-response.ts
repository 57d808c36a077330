// The successful authorization response (RFC 6749 §4.1.2 with iss, RFC 9207): a 303 redirect with
// the parameters in the query, or an auto-submitting form for response_mode=form_post.
import { formPost } from "./error-handler";
import type { Locale } from "../i18n";

/** `locale`: the language of the form_post page's button (shown only without JavaScript). */
export function authorizationResponse(redirectUri: string, responseMode: "query" | "form_post", params: Record<string, string>, extraHeaders: Record<string, string | string[]> = {}, locale?: Locale): Response {
  const headers = new Headers();
  for (const [k, v] of Object.entries(extraHeaders)) for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
  if (responseMode === "form_post") {
    const page = formPost(redirectUri, params, locale);
    page.headers.forEach((v, k) => headers.set(k, v));
    return new Response(page.body, { status: 200, headers });
  }
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  headers.set("Location", url.toString());
  headers.set("Cache-Control", "no-store");
  return new Response(null, { status: 303, headers });
}

/** A 303 redirect inside this server, with cookies to set. */
export function seeOther(location: string, cookies: string[] = []): Response {
  const headers = new Headers({ Location: location, "Cache-Control": "no-store" });
  for (const c of cookies) headers.append("Set-Cookie", c);
  return new Response(null, { status: 303, headers });
}
