/**
 * What "loopback" means (DESIGN §8): `localhost`, `127.0.0.0/8` and `::1`, nothing else — not
 * `*.localhost`, not a look-alike name. One table for the shared helper, then every caller that
 * decides by it: the Host allow-list, the Origin guard, config trust, the listen-address check
 * and `exec`'s host.
 */
import { describe, expect, it } from "vitest";
import { isLoopbackHost, isLoopbackUrl } from "../../src/net/loopback.js";
import { allowedHosts, isLoopbackOrigin } from "../../src/relay/guards.js";
import { resolveConfig } from "../../src/config/resolve.js";
import { exposedHost, needsApproval, untrustedOrigins } from "../../src/config/trust.js";
import { startRelay } from "../../src/relay/server.js";

const HOSTS: Array<[string, boolean]> = [
  ["localhost", true],
  ["LocalHost", true],
  ["127.0.0.1", true],
  ["127.0.0.2", true],
  ["127.255.255.254", true],
  ["127.1.2.3", true],
  ["::1", true],
  ["[::1]", true],
  ["0:0:0:0:0:0:0:1", true],
  ["[0000:0000:0000:0000:0000:0000:0000:0001]", true],
  // Not loopback:
  ["app.localhost", false],
  ["localhost.localhost", false],
  ["LOCALHOST.", false],
  ["localhost.evil.example", false],
  ["127.0.0.1.nip.io", false],
  ["127.0.0.256", false],
  ["127.0.0", false],
  ["128.0.0.1", false],
  ["0.0.0.0", false],
  ["::", false],
  ["[::]", false],
  ["::2", false],
  ["::ffff:127.0.0.1", false],
  ["192.168.1.20", false],
  ["", false],
];

describe("isLoopbackHost", () => {
  it.each(HOSTS)("%j → %s", (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});

describe("isLoopbackUrl (a provider's origin)", () => {
  it.each([
    ["http://127.0.0.1:11434", true],
    ["http://localhost:4000", true],
    ["http://[::1]:8080", true],
    ["http://127.1:8080", true], // WHATWG URL normalises it to 127.0.0.1
    ["https://LOCALHOST", true],
    ["http://app.localhost:3000", false],
    ["http://llm.localhost", false],
    ["http://localhost.evil.example", false],
    ["http://[::ffff:7f00:1]", false],
    ["not a url", false],
  ])("%s → %s", (url, expected) => {
    expect(isLoopbackUrl(url)).toBe(expected);
  });
});

describe("callers", () => {
  it.each([
    ["http://localhost:3000", true],
    ["http://127.0.0.1:5173", true],
    ["http://[::1]:5173", true],
    ["http://app.localhost:3000", false],
    ["https://dev.localhost", false],
    ["file://localhost/x", false],
    ["null", false],
  ])("Origin guard: %s is a loopback page → %s", (origin, expected) => {
    expect(isLoopbackOrigin(origin)).toBe(expected);
  });

  it.each([
    ["app.localhost:8742", false],
    ["localhost:8742", true],
    ["127.0.0.1:8742", true],
  ])("Host allow-list of a 127.0.0.1 listener: %s → %s", (host, expected) => {
    expect(allowedHosts(8742, "127.0.0.1").has(host)).toBe(expected);
  });

  const searched = (raw: object) => resolveConfig(raw, { source: { file: "/repo/.llm-relayrc.json", via: "search" }, env: {} });
  it.each([
    ["http://127.0.0.1:11434", false],
    ["http://localhost:11434", false],
    ["http://[::1]:11434", false],
    ["http://llm.localhost:11434", true],
    ["http://localhost.evil.example:11434", true],
  ])("config trust: a provider at %s needs approval → %s", (baseUrl, expected) => {
    const config = searched({ providers: { p: { kind: "openai", baseUrl } } });
    expect(needsApproval(config)).toBe(expected);
    expect(untrustedOrigins(config).length > 0).toBe(expected);
  });

  it.each([
    ["127.0.0.1", undefined],
    ["::1", undefined],
    ["[::1]", undefined],
    ["localhost", undefined],
    ["app.localhost", "app.localhost"],
    ["0.0.0.0", "0.0.0.0"],
  ])("config trust: listening on %s is exposed → %s", (host, expected) => {
    expect(exposedHost({ host })).toBe(expected);
  });

  it.each(["app.localhost", "localhost.evil.example"])("the relay refuses to listen on %s without a token", async (host) => {
    const config = resolveConfig({}, { source: { via: "inline" }, env: {} });
    await expect(startRelay({ config, host, port: 0 })).rejects.toMatchObject({ code: "TOKEN_REQUIRED" });
  });
});
