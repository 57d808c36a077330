import { describe, expect, test } from "bun:test";
import { base64urlJsonObject, formDecode, isValidText, jsonDepth, parseJsonSafely, parseUrlEncoded, pathDecode, urlEncodedBody } from "./text";

describe("the input text rule (SECURITY.md \"Input text\")", () => {
  test("text is well-formed Unicode without NUL", () => {
    expect(isValidText("héllo 😀")).toBe(true);
    expect(isValidText("a\u0000")).toBe(false);
    expect(isValidText("\ud800")).toBe(false);
    expect(isValidText("\udc00x")).toBe(false);
  });

  test("percent-escapes must be UTF-8; a '%' without two hex digits is literal (WHATWG URL)", () => {
    expect(formDecode("a+b%20%C3%A9")).toBe("a b é");
    expect(formDecode("100%")).toBe("100%");
    expect(formDecode("%zz%C3%A9")).toBe("%zzé");
    for (const bad of ["%C3%28", "%FF", "%ED%A0%80", "%E0%A4%A", "%C3"]) expect(formDecode(bad)).toBeUndefined();
    expect(pathDecode("a+b")).toBe("a+b");
  });

  test("a urlencoded body names each field that is not text, never failing the others", () => {
    expect(parseUrlEncoded("a=1&b=%00&%FF=2&c=%zz")).toEqual({ fields: [{ name: "a", value: "1" }, { name: "c", value: "%zz" }], invalid: ["b", "(parameter name)"] });
    const raw = new Uint8Array([0x61, 0x3d, 0xc3, 0xa9, 0x26, 0x62, 0x3d, 0xc3, 0x28]);
    expect(parseUrlEncoded(urlEncodedBody(raw))).toEqual({ fields: [{ name: "a", value: "é" }], invalid: ["b"] });
  });

  test("JSON is bounded in depth and size before parsing, and its strings and keys must be text", () => {
    expect(jsonDepth(`{"a":"[[[[","b":[{"c":"\\"["}]}`)).toBe(3);
    expect(parseJsonSafely("[".repeat(100_000))).toEqual({ ok: false, problem: "too_deep" });
    expect(parseJsonSafely(`"${"x".repeat(100)}"`, { maxBytes: 50 })).toEqual({ ok: false, problem: "too_large" });
    expect(parseJsonSafely(`{"a":"\\u0000"}`)).toEqual({ ok: false, problem: "invalid_text" });
    expect(parseJsonSafely(`{"\\ud800":1}`)).toEqual({ ok: false, problem: "invalid_text" });
    expect(parseJsonSafely(`{"a":`)).toEqual({ ok: false, problem: "invalid" });
    expect(parseJsonSafely(`{"a":["é",{"b":null}]}`)).toEqual({ ok: true, value: { a: ["é", { b: null }] } });
  });
});

describe("base64urlJsonObject", () => {
  const seg = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  test("a JSON object comes back; anything else (array, number, null, not JSON, not base64url JSON) is undefined", () => {
    expect(base64urlJsonObject(seg({ a: 1, "zoë": [true] }))).toEqual({ a: 1, "zoë": [true] });
    for (const v of [[1], 3, null, "x"]) expect(base64urlJsonObject(seg(v))).toBeUndefined();
    expect(base64urlJsonObject(Buffer.from("{nope").toString("base64url"))).toBeUndefined();
    expect(base64urlJsonObject("")).toBeUndefined();
  });
});
