/**
 * What "loopback" means to llm-relay (DESIGN §8): the name `localhost`, the IPv4 block
 * `127.0.0.0/8` (RFC 1122 §3.2.1.3) and the IPv6 address `::1` (RFC 4291 §2.5.3) — nothing else.
 * Not `*.localhost`: RFC 6761 §6.3 only asks resolvers to map those names to loopback, and a
 * system resolver or proxy that does not would send "local" traffic elsewhere. Shared by the
 * relay's guards, config trust, `exec`'s listen address and the upstream dispatcher.
 */
import { isIPv4, isIPv6 } from "node:net";

/** A host as written in a URL, a Host header or `--host`: `[::1]` and `::1` alike. Pure. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (h === "localhost") return true;
  if (isIPv4(h)) return h.startsWith("127.");
  if (isIPv6(h)) return expandIPv6(h) === "0000:0000:0000:0000:0000:0000:0000:0001";
  return false;
}

/** The hostname of a URL or origin (`http://127.0.0.1:11434`) is loopback; false when it does not parse. */
export function isLoopbackUrl(url: string): boolean {
  try {
    return isLoopbackHost(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** `::1` → eight four-digit groups, so every spelling of one address compares equal. */
function expandIPv6(address: string): string {
  const [head = "", tail] = address.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  return groups.map((g) => g.padStart(4, "0")).join(":");
}
