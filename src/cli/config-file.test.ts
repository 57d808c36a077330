// ~/.authly/config.toml parsing: the guide's example file, and a clear message naming the line.
import { describe, expect, test } from "bun:test";
import { parseSettings } from "./config-file";

const GUIDE = `[api]
url = "https://auth.mycompany.com"
timeout = 30

[auth]
auto_refresh = true
token_file = "~/.authly/tokens.json"

[output]
default_format = "table"
show_timestamps = true
`;

describe("parseSettings", () => {
  test("reads the guide's example file", () => {
    const s = parseSettings(GUIDE, "config.toml");
    expect(s.api).toEqual({ url: "https://auth.mycompany.com", timeout: 30 });
    expect(s.auth.autoRefresh).toBe(true);
    expect(s.auth.tokenFile).toEndWith("/.authly/tokens.json");
    expect(s.auth.tokenFile!.startsWith("~")).toBe(false);
    expect(s.output).toEqual({ defaultFormat: "table", showTimestamps: true });
  });

  test("comments, single quotes, trailing slash of the URL", () => {
    const s = parseSettings(`# mine\n[api] # the server\nurl = 'http://localhost:9000/' # local\n`, "c.toml");
    expect(s.api.url).toBe("http://localhost:9000");
  });

  test("an empty file keeps the defaults", () => {
    const s = parseSettings("", "c.toml");
    expect(s).toMatchObject({ api: { timeout: 30 }, auth: { autoRefresh: true }, output: { defaultFormat: "table", showTimestamps: true } });
  });

  const bad: [string, RegExp][] = [
    ["[api]\ntimeout = 0\n", /line 2: timeout must be a number of seconds from 1 to 600/],
    ["url = \"x\"\n", /line 1: `url` must be inside a section/],
    ["[api]\n[api]\n", /line 2: section \[api\] appears twice/],
    ["[api]\nurl = \"http://a\"\nurl = \"http://b\"\n", /line 3: `url` is set twice in \[api\]/],
    ["[output]\nshow_timestamps = \"yes\"\n", /line 2: show_timestamps must be a boolean/],
    ["[api\n", /line 1: malformed section header/],
    ["[auth]\nthis is not toml\n", /line 2: expected `key = value`/],
  ];
  for (const [text, re] of bad) {
    test(`refuses ${JSON.stringify(text)} naming the line (exit 5)`, () => {
      let err: { message: string; exitCode: number } | undefined;
      try {
        parseSettings(text, "/home/u/.authly/config.toml");
      } catch (e) {
        err = e as { message: string; exitCode: number };
      }
      expect(err?.exitCode).toBe(5);
      expect(err?.message).toMatch(re);
      expect(err?.message).toContain("/home/u/.authly/config.toml");
    });
  }
});
