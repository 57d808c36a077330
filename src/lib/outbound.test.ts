import { describe, expect, test } from "bun:test";
import { addressProblem, destinationProblem, outboundPolicy, parseV6 } from "./outbound";

const prod = { allowLoopback: false };
const dev = { allowLoopback: true };

describe("outbound destinations (SECURITY.md: outbound requests)", () => {
  test("refuses every listed IPv4 range, at both ends", () => {
    for (const ip of [
      "0.0.0.0", "0.255.255.255", "10.0.0.1", "10.255.255.255", "100.64.0.0", "100.127.255.255", "127.0.0.1", "127.255.255.254",
      "169.254.169.254", "172.16.0.1", "172.31.255.255", "192.168.0.1", "192.168.255.255", "198.18.0.0", "198.19.255.255",
      "224.0.0.1", "239.255.255.255", "240.0.0.1", "255.255.255.255",
    ]) expect(addressProblem(ip, prod), ip).toBeDefined();
  });

  test("allows public IPv4 addresses next to the refused ranges", () => {
    for (const ip of ["1.1.1.1", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0", "172.15.255.255", "172.32.0.0", "192.167.255.255", "192.169.0.0", "198.17.255.255", "198.20.0.0", "223.255.255.255", "93.184.216.34"]) {
      expect(addressProblem(ip, prod), ip).toBeUndefined();
    }
  });

  test("refuses the IPv6 ranges, and checks the IPv4 inside mapped, NAT64 and 6to4 addresses", () => {
    for (const ip of ["::", "::1", "fc00::1", "fdff:ffff::1", "fe80::1", "fe80::1%eth0", "febf::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "64:ff9b::192.168.1.1", "2002:c0a8:0101::1", "::127.0.0.1", "[::1]"]) {
      expect(addressProblem(ip, prod), ip).toBeDefined();
    }
    for (const ip of ["2606:4700:4700::1111", "::ffff:93.184.216.34", "64:ff9b::808:808", "2001:db8::1"]) expect(addressProblem(ip, prod), ip).toBeUndefined();
  });

  test("development mode allows loopback only, never private or link-local", () => {
    for (const ip of ["127.0.0.1", "::1", "::ffff:127.0.0.1"]) expect(addressProblem(ip, dev), ip).toBeUndefined();
    for (const ip of ["10.0.0.1", "169.254.169.254", "fe80::1", "::", "0.0.0.0"]) expect(addressProblem(ip, dev), ip).toBeDefined();
  });

  test("parses IPv6 spellings to the same bytes", () => {
    expect([...parseV6("::ffff:127.0.0.1")!]).toEqual([...parseV6("0:0:0:0:0:ffff:7f00:0001")!]);
    expect(parseV6("1:2:3:4:5:6:7:8:9")).toBeUndefined();
    expect(parseV6("1::2::3")).toBeUndefined();
    expect(parseV6("12345::")).toBeUndefined();
  });

  test("registration refuses literal and localhost destinations; names wait for resolution at fetch time", () => {
    expect(destinationProblem("https://10.1.2.3/jwks", prod)).toContain("private");
    expect(destinationProblem("https://169.254.169.254/latest/meta-data", dev)).toContain("link-local");
    expect(destinationProblem("http://127.0.0.1:9000/jwks", prod)).toContain("loopback");
    expect(destinationProblem("http://2130706433/jwks", prod)).toContain("loopback"); // WHATWG URL: 127.0.0.1
    expect(destinationProblem("http://[::1]:9000/bcl", prod)).toContain("loopback");
    expect(destinationProblem("http://localhost:9000/bcl", prod)).toContain("localhost");
    expect(destinationProblem("http://api.localhost/bcl", prod)).toContain("localhost");
    expect(destinationProblem("http://127.0.0.1:9000/jwks", dev)).toBeUndefined();
    expect(destinationProblem("https://rp.example.com/jwks", prod)).toBeUndefined();
  });

  test("loopback is allowed with AUTHLY_DEV_MODE=true or in the embedded mode, not in production or testing alone", () => {
    expect(outboundPolicy({ devMode: true, mode: { mode: "production" } }).allowLoopback).toBe(true);
    expect(outboundPolicy({ devMode: false, mode: { mode: "embedded" } }).allowLoopback).toBe(true);
    expect(outboundPolicy({ devMode: false, mode: { mode: "production" } }).allowLoopback).toBe(false);
    expect(outboundPolicy({ devMode: false, mode: { mode: "testing" } }).allowLoopback).toBe(false);
  });
});
