// What the start-up log says about the listener: the address really bound and the URL to use
// (a wildcard bind is reached on loopback from this machine; the issuer is what clients use).

/** The bound address and a URL to reach it: a wildcard bind (0.0.0.0, ::) is reached on loopback. */
export function listenAddress(host: string, port: number): { address: string; url: string; wildcard: boolean } {
  const v6 = host.includes(":");
  const address = `${v6 ? `[${host}]` : host}:${port}`;
  const wildcard = host === "0.0.0.0" || host === "::" || host === "[::]";
  const reach = host === "0.0.0.0" ? "127.0.0.1" : wildcard ? "[::1]" : v6 ? `[${host}]` : host;
  return { address, url: `http://${reach}:${port}`, wildcard };
}

/** The start-up line: the address really bound, the issuer (the URL clients and browsers use),
 *  and, when the issuer is not this process's own URL, how to reach the process from this machine. */
export function listeningLine(running: { address: string; url: string; wildcard: boolean }, issuer: string): string {
  const sameOrigin = (() => {
    try {
      return new URL(issuer).origin === new URL(running.url).origin;
    } catch {
      return false;
    }
  })();
  return `Authly listening on ${running.address}${running.wildcard ? " (every interface)" : ""}; issuer ${issuer}${sameOrigin ? "" : `; from this machine: ${running.url}`}`;
}
