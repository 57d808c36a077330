// Branding: what an admin may change about the pages and mails without a rebuild (issue 17):
// product name, logo, three colours and an extra stylesheet, server-wide and per client. Every
// value is checked here so that nothing an admin types can break out of its place in the CSS or
// the HTML (CSS Color 4 values only; the stylesheet may load nothing from anywhere).
import { Type as t, type Static } from "@sinclair/typebox";
import { isValidText } from "../lib/text";
import { Problems } from "../lib/validate";

export const BRANDING_LIMITS = {
  productName: 64,
  /** A logo data: URI (about 64 KiB of image once decoded). */
  logoUriChars: 90_000,
  logoBytes: 64 * 1024,
  stylesheetBytes: 32 * 1024,
  colourChars: 64,
};

const Nullable = <T extends ReturnType<typeof t.String>>(s: T) => t.Union([s, t.Null()]);

/** The admin API's body (PUT replaces the fields it names; null clears one). */
export const BrandingInput = t.Object(
  {
    product_name: t.Optional(Nullable(t.String({ description: `Shown in the page header, titles and mails (1-${BRANDING_LIMITS.productName} characters)` }))),
    logo_uri: t.Optional(Nullable(t.String({ description: "https URL or data:image/...;base64 URI (png, jpeg, gif, webp, svg+xml; at most 64 KiB)" }))),
    primary_colour: t.Optional(Nullable(t.String({ description: "Buttons, links and focus ring: a CSS colour (#0b5cad, rgb(...), hsl(...) or a colour name)" }))),
    background_colour: t.Optional(Nullable(t.String({ description: "Page background: a CSS colour" }))),
    text_colour: t.Optional(Nullable(t.String({ description: "Body text: a CSS colour" }))),
    stylesheet: t.Optional(Nullable(t.String({ description: "Extra CSS appended to ours (at most 32 KiB; no @import, no url() other than data:image, no backslash escapes)" }))),
  },
  { additionalProperties: false },
);
export type BrandingInput = Static<typeof BrandingInput>;

export const Branding = t.Object({
  client_id: Nullable(t.String({ description: "The client this branding applies to; null: server-wide" })),
  product_name: Nullable(t.String()),
  logo_uri: Nullable(t.String()),
  primary_colour: Nullable(t.String()),
  background_colour: Nullable(t.String()),
  text_colour: Nullable(t.String()),
  stylesheet: Nullable(t.String()),
  updated_at: Nullable(t.String({ format: "date-time" })),
});
export type Branding = Static<typeof Branding>;

export const FIELDS = ["product_name", "logo_uri", "primary_colour", "background_colour", "text_colour", "stylesheet"] as const;
export type Field = (typeof FIELDS)[number];
export type BrandingValues = { [K in Field]: string | null };

export const DEFAULT_PRODUCT = "Authly";
export const DEFAULT_COLOURS = { primary: "#0b5cad", background: "#f3f4f6", text: "#1f2328" };

// CSS Color 4 named colours (and transparent / currentcolor are left out: a theme needs a colour).
const NAMED = new Set(
  "aliceblue antiquewhite aqua aquamarine azure beige bisque black blanchedalmond blue blueviolet brown burlywood cadetblue chartreuse chocolate coral cornflowerblue cornsilk crimson cyan darkblue darkcyan darkgoldenrod darkgray darkgreen darkgrey darkkhaki darkmagenta darkolivegreen darkorange darkorchid darkred darksalmon darkseagreen darkslateblue darkslategray darkslategrey darkturquoise darkviolet deeppink deepskyblue dimgray dimgrey dodgerblue firebrick floralwhite forestgreen fuchsia gainsboro ghostwhite gold goldenrod gray green greenyellow grey honeydew hotpink indianred indigo ivory khaki lavender lavenderblush lawngreen lemonchiffon lightblue lightcoral lightcyan lightgoldenrodyellow lightgray lightgreen lightgrey lightpink lightsalmon lightseagreen lightskyblue lightslategray lightslategrey lightsteelblue lightyellow lime limegreen linen magenta maroon mediumaquamarine mediumblue mediumorchid mediumpurple mediumseagreen mediumslateblue mediumspringgreen mediumturquoise mediumvioletred midnightblue mintcream mistyrose moccasin navajowhite navy oldlace olive olivedrab orange orangered orchid palegoldenrod palegreen paleturquoise palevioletred papayawhip peachpuff peru pink plum powderblue purple rebeccapurple red rosybrown royalblue saddlebrown salmon sandybrown seagreen seashell sienna silver skyblue slateblue slategray slategrey snow springgreen steelblue tan teal thistle tomato turquoise violet wheat white whitesmoke yellow yellowgreen".split(" "),
);
const NUM = String.raw`[+-]?(?:\d+(?:\.\d+)?|\.\d+)(?:%|deg|turn|rad|grad)?`;
const FUNCTIONAL = new RegExp(String.raw`^(?:rgba?|hsla?|hwb|lab|lch|oklab|oklch)\(\s*${NUM}(?:\s*[,\s]\s*${NUM}){2}(?:\s*[,/]\s*${NUM})?\s*\)$`, "i");

/** A CSS colour value and nothing else: #rgb(a), #rrggbb(aa), a functional notation with numbers
 *  only, or a colour name. Returns the normalised value, or undefined. */
export function parseColour(value: string): string | undefined {
  const v = value.trim();
  if (v.length > BRANDING_LIMITS.colourChars) return undefined;
  if (/^#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i.test(v)) return v.toLowerCase();
  if (NAMED.has(v.toLowerCase())) return v.toLowerCase();
  if (FUNCTIONAL.test(v)) return v.replace(/\s+/g, " ");
  return undefined;
}

const DATA_IMAGE = /^data:image\/(png|jpeg|gif|webp|svg\+xml);base64,([A-Za-z0-9+/]+={0,2})$/;

/** A logo: an https URL (fetched and inlined by us, logo.ts) or a base64 data:image URI. */
export function logoProblem(uri: string): string | undefined {
  if (uri.length > BRANDING_LIMITS.logoUriChars) return `must be at most ${BRANDING_LIMITS.logoUriChars} characters`;
  if (uri.startsWith("data:")) {
    const m = uri.match(DATA_IMAGE);
    if (!m) return "must be a data:image/(png|jpeg|gif|webp|svg+xml);base64 URI";
    if (Math.floor((m[2]!.length * 3) / 4) > BRANDING_LIMITS.logoBytes) return `must hold at most ${BRANDING_LIMITS.logoBytes} bytes of image`;
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return "must be an https URL or a data:image URI";
  }
  if (url.protocol !== "https:") return "must be an https URL or a data:image URI";
  if (url.username || url.password) return "must not carry credentials";
  return undefined;
}

/** True for a data:image URI that logoProblem accepts (safe to put in an <img src>). */
export function isDataImage(uri: string): boolean {
  return DATA_IMAGE.test(uri) && uri.length <= BRANDING_LIMITS.logoUriChars;
}

/** The extra stylesheet may style, never load: no @import, no url()/image-set()/src() but
 *  data:image, no backslash escapes (which could spell any of those), no markup. */
export function stylesheetProblem(css: string): string | undefined {
  if (new TextEncoder().encode(css).length > BRANDING_LIMITS.stylesheetBytes) return `must be at most ${BRANDING_LIMITS.stylesheetBytes} bytes`;
  if (css.includes("\\")) return "must not use backslash escapes";
  if (/@import|@namespace|@font-face/i.test(css)) return "must not use @import, @namespace or @font-face";
  if (/<\/?\s*[a-z!]/i.test(css)) return "must not contain markup";
  if (/expression\s*\(|behavior\s*:|-moz-binding/i.test(css)) return "must not use expression(), behavior or -moz-binding";
  for (const m of css.matchAll(/(?:url|image-set|image|src|cross-fade|element)\s*\(\s*(['"]?)([^'")\s]*)/gi)) {
    const fn = m[0].split("(")[0]!.trim().toLowerCase();
    if (fn === "element") return "must not use element()";
    if (!/^data:image\//i.test(m[2]!)) return `${fn}() may only hold a data:image URI`;
  }
  return undefined;
}

/** The checked, normalised values of a PUT body (only the fields it names). */
export function validateBranding(input: BrandingInput): Partial<BrandingValues> {
  const p = new Problems();
  const out: Partial<BrandingValues> = {};
  for (const field of FIELDS) {
    const raw = input[field];
    if (raw === undefined) continue;
    if (raw === null) {
      out[field] = null;
      continue;
    }
    if (!isValidText(raw)) {
      p.add(field, "must be valid text (no NUL, no lone surrogate)");
      continue;
    }
    switch (field) {
      case "product_name": {
        const v = raw.trim();
        if (!v || v.length > BRANDING_LIMITS.productName || /[\u0000-\u001f\u007f]/.test(v)) p.add(field, `must be 1-${BRANDING_LIMITS.productName} characters without control characters`);
        else out[field] = v;
        break;
      }
      case "logo_uri": {
        const problem = logoProblem(raw.trim());
        if (problem) p.add(field, problem);
        else out[field] = raw.trim();
        break;
      }
      case "stylesheet": {
        const problem = stylesheetProblem(raw);
        if (problem) p.add(field, problem);
        else out[field] = raw.trim() || null;
        break;
      }
      default: {
        const colour = parseColour(raw);
        if (!colour) p.add(field, "must be a CSS colour: #rgb, #rrggbb, rgb(...), hsl(...) (numbers only) or a colour name");
        else out[field] = colour;
      }
    }
  }
  p.throwIfAny("The branding is invalid");
  return out;
}
