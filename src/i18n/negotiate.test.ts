// Locale negotiation: ui_locales (OIDC Core §3.1.2.1), then the user's locale claim, then
// Accept-Language with q-values (RFC 9110 §12.5.4), then English; "de-CH" falls back to "de".
import { describe, expect, test } from "bun:test";
import { chooseLocale, fromAcceptLanguage, fromUiLocales, matchLocale } from "./index";

describe("locale negotiation", () => {
  test("a tag matches its language, case and region aside (RFC 4647 lookup)", () => {
    expect(matchLocale("de-CH")).toBe("de");
    expect(matchLocale("FR")).toBe("fr");
    expect(matchLocale("es_MX")).toBe("es");
    expect(matchLocale("pt-BR")).toBeUndefined();
    expect(matchLocale("de;")).toBeUndefined();
    expect(matchLocale("")).toBeUndefined();
  });

  test("ui_locales: the first shipped language in the order given wins", () => {
    expect(fromUiLocales("ja fr-CA es")).toBe("fr");
    expect(fromUiLocales("es de")).toBe("es");
    expect(fromUiLocales("ja zh")).toBeUndefined();
    expect(fromUiLocales("")).toBeUndefined();
  });

  test("Accept-Language: highest q first, header order on ties, q=0 and * ignored", () => {
    expect(fromAcceptLanguage("fr;q=0.5, es;q=0.9")).toBe("es");
    expect(fromAcceptLanguage("ja, de;q=0.1")).toBe("de");
    expect(fromAcceptLanguage("fr, de")).toBe("fr");
    expect(fromAcceptLanguage("de;q=0, fr;q=0.2")).toBe("fr");
    expect(fromAcceptLanguage("*")).toBeUndefined();
    expect(fromAcceptLanguage("de-AT;q=0.8, en-GB;q=0.9")).toBe("en");
    expect(fromAcceptLanguage("de;q=abc")).toBe("de");
    expect(fromAcceptLanguage(undefined)).toBeUndefined();
  });

  test("order of sources: ui_locales, then the user's locale claim, then Accept-Language, then English", () => {
    expect(chooseLocale({ uiLocales: "es", userLocale: "fr", acceptLanguage: "de" })).toBe("es");
    expect(chooseLocale({ uiLocales: "ja", userLocale: "fr-FR", acceptLanguage: "de" })).toBe("fr");
    expect(chooseLocale({ userLocale: "pt", acceptLanguage: "de-DE,de;q=0.9" })).toBe("de");
    expect(chooseLocale({ acceptLanguage: "ja, zh;q=0.5" })).toBe("en");
    expect(chooseLocale({})).toBe("en");
  });
});
