// Branding: the admin's view (show, set, reset; server-wide or per client) and the pages' view
// (`pageBrand`: the merged, checked values a page or mail is drawn with, cached briefly).
import type { Deps } from "../deps";
import type { Tx } from "../db/sql";
import { auditAdmin, type Actor } from "../audit/service";
import { NotFoundError } from "../errors";
import { findClientRecord } from "../clients/service";
import { assertSchema } from "../lib/validate";
import { inlineLogo } from "./logo";
import { BrandingInput, DEFAULT_COLOURS, DEFAULT_PRODUCT, FIELDS, parseColour, validateBranding, type Branding, type BrandingValues } from "./model";
import * as store from "./store";

/** What a page or a mail is drawn with. */
export interface Brand {
  productName: string;
  /** A data: URI (never a remote URL), or none: the built-in mark is shown. */
  logo?: string;
  /** The configured https logo URL (mails link it; pages never do). */
  logoUrl?: string;
  colours: { primary: string; background: string; text: string };
  /** The theme stylesheet (colour variables and the extra CSS), served at cssHref. */
  css: string;
  /** Our stylesheet URL of this theme (versioned by content, so a change shows at once). */
  cssHref: string;
}

/** Pages see a change within this time (each process caches what it read). */
export const BRAND_CACHE_MS = 5000;

const EMPTY: BrandingValues = { product_name: null, logo_uri: null, primary_colour: null, background_colour: null, text_colour: null, stylesheet: null };

function toApi(clientId: string | null, row: store.BrandingRow | undefined): Branding {
  const v = row ?? { ...EMPTY, updated_at: null };
  return {
    client_id: clientId,
    product_name: v.product_name, logo_uri: v.logo_uri, primary_colour: v.primary_colour,
    background_colour: v.background_colour, text_colour: v.text_colour, stylesheet: v.stylesheet,
    updated_at: v.updated_at ? new Date(v.updated_at).toISOString() : null,
  };
}

async function requireClient(deps: Deps, tx: Tx, clientId: string | null): Promise<void> {
  if (clientId !== null && !(await findClientRecord(deps, tx, clientId))) throw new NotFoundError(`No client '${clientId}'`);
}

export async function showBranding(deps: Deps, clientId: string | null): Promise<Branding> {
  await requireClient(deps, deps.sql, clientId);
  return toApi(clientId, await store.findBranding(deps.sql, clientId));
}

/** Sets the named fields (null clears one); the others keep their value. */
export async function setBranding(deps: Deps, actor: Actor, clientId: string | null, body: unknown): Promise<Branding> {
  const input = assertSchema<BrandingInput>(BrandingInput, body);
  const changes = validateBranding(input);
  const row = await deps.sql.begin(async (tx) => {
    await requireClient(deps, tx, clientId);
    const current = await store.findBranding(tx, clientId);
    const next: BrandingValues = { ...EMPTY };
    for (const f of FIELDS) next[f] = f in changes ? changes[f]! : (current?.[f] ?? null);
    const saved = await store.saveBranding(tx, clientId, next);
    await auditAdmin(deps, tx, actor, "branding.set", { type: clientId ? "client" : "server", id: clientId ?? "server" }, { fields: Object.keys(changes) });
    return saved;
  });
  forgetBrands(deps);
  return toApi(clientId, row);
}

/** Back to the defaults (server-wide) or to the server-wide branding (a client). */
export async function resetBranding(deps: Deps, actor: Actor, clientId: string | null): Promise<Branding> {
  await deps.sql.begin(async (tx) => {
    await requireClient(deps, tx, clientId);
    await store.deleteBranding(tx, clientId);
    await auditAdmin(deps, tx, actor, "branding.reset", { type: clientId ? "client" : "server", id: clientId ?? "server" }, {});
  });
  forgetBrands(deps);
  return toApi(clientId, undefined);
}

type BrandDeps = Pick<Deps, "config" | "sql">;
const caches = new WeakMap<BrandDeps, Map<string, { at: number; brand: Promise<Brand> }>>();

function forgetBrands(deps: BrandDeps): void {
  caches.delete(deps);
}

/** The theme stylesheet: our colour variables, then the server's extra CSS, then the client's. */
function themeCss(colours: Brand["colours"], sheets: (string | null | undefined)[]): string {
  const vars = `:root{--primary:${colours.primary};--page-bg:${colours.background};--text:${colours.text}}`;
  return [vars, ...sheets.filter(Boolean)].join("\n");
}

async function loadBrand(deps: BrandDeps, clientId: string | null, opts: { sql?: Tx; inline?: boolean } = {}): Promise<Brand> {
  const { server, client } = await store.findPageBranding(opts.sql ?? deps.sql, clientId);
  const pick = <F extends keyof BrandingValues>(f: F) => client?.[f] ?? server?.[f] ?? null;
  // Stored values were checked when set; they are checked again here so that a row written by
  // other means can never reach the CSS.
  const colour = (v: string | null, fallback: string) => (v ? parseColour(v) : undefined) ?? fallback;
  const colours = {
    primary: colour(pick("primary_colour"), DEFAULT_COLOURS.primary),
    background: colour(pick("background_colour"), DEFAULT_COLOURS.background),
    text: colour(pick("text_colour"), DEFAULT_COLOURS.text),
  };
  const css = themeCss(colours, [server?.stylesheet, client?.stylesheet]);
  const version = new Bun.CryptoHasher("sha256").update(css).digest("base64url").slice(0, 16);
  const base = new URL(deps.config.issuer).pathname.replace(/\/$/, "");
  const cssHref = `${base}/branding/theme.css?v=${version}${client ? `&client=${encodeURIComponent(client.client_id!)}` : ""}`;
  const name = pick("product_name");
  const logoUri = pick("logo_uri");
  return {
    productName: name && !/[\u0000-\u001f\u007f]/.test(name) ? name : DEFAULT_PRODUCT,
    logo: opts.inline === false ? undefined : await inlineLogo(logoUri, deps.config),
    logoUrl: logoUri?.startsWith("https://") ? logoUri : undefined,
    colours, css, cssHref,
  };
}

/** The brand of a page: the client's branding over the server's over the defaults. A database
 *  that does not answer leaves the defaults (an error page must still render). */
export async function pageBrand(deps: BrandDeps, clientId?: string | null): Promise<Brand> {
  let cache = caches.get(deps);
  if (!cache) caches.set(deps, (cache = new Map()));
  const key = clientId ?? "";
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < BRAND_CACHE_MS) return hit.brand;
  const brand = loadBrand(deps, clientId ?? null).catch(() => defaultBrand(deps));
  cache.set(key, { at: Date.now(), brand });
  if (cache.size > 1000) cache.delete(cache.keys().next().value!);
  return brand;
}

export function defaultBrand(deps?: Pick<Deps, "config">): Brand {
  const css = themeCss(DEFAULT_COLOURS, []);
  const base = deps ? new URL(deps.config.issuer).pathname.replace(/\/$/, "") : "";
  const version = new Bun.CryptoHasher("sha256").update(css).digest("base64url").slice(0, 16);
  return { productName: DEFAULT_PRODUCT, colours: { ...DEFAULT_COLOURS }, css, cssHref: `${base}/branding/theme.css?v=${version}` };
}

/** The server-wide brand of a mail, read in the caller's transaction (no logo fetch: a mail links
 *  an https logo, it never inlines one). */
export function mailBrand(deps: BrandDeps, tx?: Tx): Promise<Brand> {
  return loadBrand(deps, null, { sql: tx, inline: false }).catch(() => defaultBrand(deps));
}

/** The client's logo_uri as an inlined image (consent and login pages), or undefined. */
export function clientLogo(deps: Deps, logoUri: string | null | undefined): Promise<string | undefined> {
  return inlineLogo(logoUri, deps.config);
}
