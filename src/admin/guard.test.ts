import { describe, expect, test } from "bun:test";
import { adminSourceAllowed, ipMatches } from "./guard";

const config = (localhostOnly: boolean, allowed: string[]) => ({ adminApiLocalhostOnly: localhostOnly, adminApiAllowedIps: allowed }) as never;

describe("admin API network rule", () => {
  test("loopback only by default", () => {
    expect(adminSourceAllowed(config(true, []), "127.0.0.1")).toBe(true);
    expect(adminSourceAllowed(config(true, []), "::1")).toBe(true);
    expect(adminSourceAllowed(config(true, []), "10.0.0.1")).toBe(false);
    expect(adminSourceAllowed(config(true, []), "unknown")).toBe(false);
  });
  test("an allow-list admits exact addresses and IPv4 CIDR blocks, also with localhost-only off", () => {
    expect(adminSourceAllowed(config(true, ["10.1.0.0/16"]), "10.1.200.3")).toBe(true);
    expect(adminSourceAllowed(config(true, ["10.1.0.0/16"]), "10.2.0.1")).toBe(false);
    expect(adminSourceAllowed(config(false, ["10.1.0.0/16"]), "10.2.0.1")).toBe(false);
    expect(adminSourceAllowed(config(false, []), "203.0.113.4")).toBe(true);
  });
  test("a request relayed by an untrusted proxy is neither loopback nor on the allow-list; admitted only when the rule is open", () => {
    expect(adminSourceAllowed(config(true, []), "127.0.0.1", true)).toBe(false);
    expect(adminSourceAllowed(config(true, ["127.0.0.0/8"]), "127.0.0.1", true)).toBe(false);
    expect(adminSourceAllowed(config(false, ["10.0.0.0/8"]), "127.0.0.1", true)).toBe(false);
    expect(adminSourceAllowed(config(false, []), "127.0.0.1", true)).toBe(true);
  });
  test("ipMatches", () => {
    expect(ipMatches("192.168.1.77", "192.168.1.0/24")).toBe(true);
    expect(ipMatches("192.168.2.1", "192.168.1.0/24")).toBe(false);
    expect(ipMatches("8.8.8.8", "0.0.0.0/0")).toBe(true);
    expect(ipMatches("2001:db8::1", "2001:db8::1")).toBe(true);
    expect(ipMatches("2001:db8::1", "2001:db8::/32")).toBe(false);
    expect(ipMatches("300.1.1.1", "0.0.0.0/0")).toBe(false);
  });
});
