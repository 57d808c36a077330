import { describe, expect, test } from "bun:test";
import { Type as t } from "@sinclair/typebox";
import { ValidationError } from "../errors";
import { assertSchema, boolParam, fieldName, intParam, objectBody, Problems, schemaProblems } from "./validate";

describe("validation that names every bad field", () => {
  const S = t.Object({ name: t.String({ minLength: 1 }), kind: t.Optional(t.Union([t.Literal("a"), t.Literal("b")])), uris: t.Optional(t.Array(t.String())) }, { additionalProperties: false });

  test("JSON pointers become readable field names", () => {
    expect(fieldName("/redirect_uris/0")).toBe("redirect_uris[0]");
    expect(fieldName("/jwks/keys/2/kty")).toBe("jwks.keys[2].kty");
    expect(fieldName("")).toBe("body");
  });

  test("one problem per field, all fields at once, without the submitted values", () => {
    const problems = schemaProblems(S, { kind: "secret-value", uris: ["ok", 42], extra: true });
    expect(problems.map((p) => p.field)).toEqual(["name", "extra", "kind", "uris[1]"]);
    expect(problems.find((p) => p.field === "kind")!.message).toBe("must be one of: a, b");
    expect(JSON.stringify(problems)).not.toContain("secret-value");
  });

  test("assertSchema throws a ValidationError carrying the fields", () => {
    expect(() => assertSchema(S, { name: "" })).toThrow(ValidationError);
    try {
      assertSchema(S, {}, (p) => p.add("custom", "is wrong"));
    } catch (e) {
      expect((e as ValidationError).fields).toEqual([{ field: "name", message: "is required" }, { field: "custom", message: "is wrong" }]);
    }
  });

  test("bodies must be JSON objects; empty means {}", () => {
    expect(objectBody("")).toEqual({});
    expect(objectBody('{"a":1}')).toEqual({ a: 1 });
    expect(() => objectBody("[1]")).toThrow(ValidationError);
    expect(() => objectBody("{oops")).toThrow(ValidationError);
  });

  test("query parameters: bounded integers and booleans", () => {
    const p = new Problems();
    expect(intParam(p, { limit: "5" }, "limit", 20, 1, 100)).toBe(5);
    expect(intParam(p, {}, "limit", 20, 1, 100)).toBe(20);
    intParam(p, { offset: "-1" }, "offset", 0, 0, 10);
    intParam(p, { limit: "500" }, "limit", 20, 1, 100);
    expect(boolParam(p, { x: "true" }, "x")).toBe(true);
    boolParam(p, { y: "maybe" }, "y");
    expect(p.list.map((x) => x.field)).toEqual(["offset", "limit", "y"]);
  });
});
