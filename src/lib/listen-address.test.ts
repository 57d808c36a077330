// The start-up line names the address really bound and the URL to use (issue 18).
import { describe, expect, test } from "bun:test";
import { listenAddress, listeningLine } from "./listen-address";

describe("start-up line", () => {
  test("a wildcard bind says 0.0.0.0 (every interface) and the URL to open from this machine", () => {
    const bound = listenAddress("0.0.0.0", 8000);
    expect(bound).toEqual({ address: "0.0.0.0:8000", url: "http://127.0.0.1:8000", wildcard: true });
    expect(listeningLine(bound, "http://localhost:8000")).toBe("Authly listening on 0.0.0.0:8000 (every interface); issuer http://localhost:8000; from this machine: http://127.0.0.1:8000");
  });

  test("IPv6 wildcard and a specific address; no second URL when the issuer is the process's own", () => {
    expect(listenAddress("::", 9000)).toEqual({ address: "[::]:9000", url: "http://[::1]:9000", wildcard: true });
    expect(listeningLine(listenAddress("127.0.0.1", 9000), "http://127.0.0.1:9000")).toBe("Authly listening on 127.0.0.1:9000; issuer http://127.0.0.1:9000");
  });
});
