// Catalogue completeness (issue 17): every shipped language has exactly English's keys, the same
// {placeholders} in each message, and a real translation (not English copied over).
import { describe, expect, test } from "bun:test";
import { CATALOGUES, LOCALES, placeholders, translator } from "./index";
import { en } from "./en";

const keys = Object.keys(en).sort();

describe("message catalogues", () => {
  test("the shipped locales are exactly the catalogues (discovery advertises LOCALES)", () => {
    expect(Object.keys(CATALOGUES).sort()).toEqual([...LOCALES].sort());
    expect(LOCALES[0]).toBe("en");
  });

  for (const locale of LOCALES.filter((l) => l !== "en")) {
    describe(locale, () => {
      const cat = CATALOGUES[locale] as Record<string, string>;
      test("has every key of en.ts and no other", () => {
        const mine = Object.keys(cat).sort();
        expect(keys.filter((k) => !(k in cat))).toEqual([]);
        expect(mine.filter((k) => !(k in en))).toEqual([]);
      });
      test("uses the same placeholders as English in every message", () => {
        const differ = keys.filter((k) => JSON.stringify(placeholders(cat[k] ?? "")) !== JSON.stringify(placeholders((en as Record<string, string>)[k]!)));
        expect(differ).toEqual([]);
      });
      test("has no empty message and is translated, not English copied over", () => {
        expect(keys.filter((k) => !cat[k]?.trim())).toEqual([]);
        // Some messages are the same in both languages ("Code", "Passkey", "— {product}"); a copied
        // catalogue would have nearly all.
        const same = keys.filter((k) => cat[k] === (en as Record<string, string>)[k]);
        expect(same.length).toBeLessThan(keys.length * 0.05);
      });
    });
  }

  test("placeholders are filled, unknown ones kept visible, and values are not re-interpreted", () => {
    const t = translator("de");
    expect(t("login.to_continue", { client: "Foto-App" })).toBe("um mit Foto-App fortzufahren");
    expect(t("login.to_continue")).toBe("um mit {client} fortzufahren");
    expect(t("login.with_provider", { provider: "{client}" })).toBe("Mit {client} anmelden");
  });
});
