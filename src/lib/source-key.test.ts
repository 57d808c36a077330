import { describe, expect, test } from "bun:test";
import { sourceKey } from "./source-key";

describe("sourceKey: IPv4 by address, IPv6 by /64", () => {
  test("an IPv4 address is its own key", () => {
    expect(sourceKey("198.51.100.7")).toBe("198.51.100.7");
    expect(sourceKey("198.51.100.8")).not.toBe(sourceKey("198.51.100.7"));
  });
  test("IPv6 addresses in one /64 share a key, whatever their spelling", () => {
    const k = sourceKey("2001:db8:1:2::1");
    expect(k).toBe("2001:db8:1:2::/64");
    expect(sourceKey("2001:0DB8:0001:0002:ffff:ffff:ffff:ffff")).toBe(k);
    expect(sourceKey("2001:db8:1:2:a:b:c:d%eth0")).toBe(k);
    expect(sourceKey("[2001:db8:1:2::9]")).toBe(k);
  });
  test("IPv6 addresses in different /64s do not", () => {
    expect(sourceKey("2001:db8:1:3::1")).not.toBe(sourceKey("2001:db8:1:2::1"));
    expect(sourceKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
  });
  test("an IPv4-mapped IPv6 address is the IPv4 client (in both notations)", () => {
    expect(sourceKey("::ffff:198.51.100.7")).toBe("198.51.100.7");
    expect(sourceKey("::ffff:c633:6407")).toBe("198.51.100.7");
  });
  test("loopback and other text stay recognisable; malformed IPv6 is not folded into a /64", () => {
    expect(sourceKey("::1")).toBe("0:0:0:0::/64");
    expect(sourceKey("unknown")).toBe("unknown");
    expect(sourceKey("1:2:3::4::5")).toBe("1:2:3::4::5");
    expect(sourceKey("1:2:3:4:5:6:7:8:9")).toBe("1:2:3:4:5:6:7:8:9");
    expect(sourceKey("::ffff:300.1.1.1")).toBe("::ffff:300.1.1.1");
  });
});
