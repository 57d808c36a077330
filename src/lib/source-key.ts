// The key under which a client address is counted by every per-source limit (login throttling,
// the authorize, interaction, password-grant and admin rate limits): an IPv4 address as it is,
// an IPv6 address by its /64 prefix (one subscriber usually holds a whole /64, RFC 6177 / RFC 7934,
// so counting single IPv6 addresses would give each attacker 2^64 fresh counters).

/** "198.51.100.7" -> "198.51.100.7"; "2001:db8:1:2:a:b:c:d" -> "2001:db8:1:2::/64";
 *  "::ffff:198.51.100.7" -> "198.51.100.7"; anything that is not an IP address is returned as is. */
export function sourceKey(ip: string): string {
  const hextets = parseIpv6(ip);
  if (!hextets) return ip;
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 client it maps.
  if (hextets.slice(0, 5).every((h) => h === 0) && hextets[5] === 0xffff) {
    return [hextets[6]! >> 8, hextets[6]! & 0xff, hextets[7]! >> 8, hextets[7]! & 0xff].join(".");
  }
  return `${hextets.slice(0, 4).map((h) => h.toString(16)).join(":")}::/64`;
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEXTET = /^[0-9a-f]{1,4}$/i;

/** The eight 16-bit groups of an IPv6 address (zone index dropped, dotted IPv4 tail allowed), or
 *  undefined when `ip` is not one. */
function parseIpv6(ip: string): number[] | undefined {
  if (!ip.includes(":") || ip.length > 64) return undefined;
  let s = ip.replace(/^\[|\]$/g, "");
  const zone = s.indexOf("%");
  if (zone !== -1) s = s.slice(0, zone);
  const halves = s.split("::");
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === "") return [];
    const out: number[] = [];
    const items = part.split(":");
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const v4 = i === items.length - 1 ? IPV4.exec(item) : null;
      if (v4) {
        const b = v4.slice(1).map(Number);
        if (b.some((x) => x > 255)) return undefined;
        out.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
      } else if (HEXTET.test(item)) out.push(parseInt(item, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array<number>(missing).fill(0), ...tail];
}
