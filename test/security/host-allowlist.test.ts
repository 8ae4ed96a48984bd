/**
 * The Host allow-list (DESIGN §8, DNS rebinding) as a table: loopback names with the listener's
 * port always; the configured host when it is a real address; for a wildcard listener
 * (0.0.0.0, ::) the machine's own addresses and name, never a foreign domain.
 */
import { describe, expect, it } from "vitest";
import { allowedHosts } from "../../src/relay/guards.js";

const MACHINE = ["devbox", "192.168.1.20", "fe80::1", "2001:db8::20"];

describe("allowedHosts", () => {
  it.each([
    ["127.0.0.1", "127.0.0.1:8742", true],
    ["127.0.0.1", "localhost:8742", true],
    ["127.0.0.1", "[::1]:8742", true],
    ["127.0.0.1", "LOCALHOST:8742", false], // the server lower-cases before looking up
    ["127.0.0.1", "127.0.0.1", false], // port 8742 is not the default port 80
    ["127.0.0.1", "127.0.0.1:8743", false],
    ["127.0.0.1", "evil.example:8742", false],
    ["127.0.0.1", "192.168.1.20:8742", false],
    ["192.168.1.20", "192.168.1.20:8742", true],
    ["192.168.1.20", "10.0.0.1:8742", false],
    ["0.0.0.0", "192.168.1.20:8742", true],
    ["0.0.0.0", "devbox:8742", true],
    ["0.0.0.0", "[2001:db8::20]:8742", true],
    ["0.0.0.0", "0.0.0.0:8742", false],
    ["0.0.0.0", "evil.example:8742", false],
    ["::", "[fe80::1]:8742", true],
    ["::", "evil.example:8742", false],
    // The loopback address it listens on is its own, even when it is not 127.0.0.1.
    ["127.0.0.2", "127.0.0.2:8742", true],
    ["127.0.0.2", "127.0.0.3:8742", false],
  ])("listening on %s, Host %s → %s", (listen, hostHeader, allowed) => {
    expect(allowedHosts(8742, listen, MACHINE).has(hostHeader)).toBe(allowed);
  });

  it("accepts a bare name on port 80 (a Host without a port means the default port)", () => {
    expect(allowedHosts(80, "127.0.0.1").has("localhost")).toBe(true);
  });
});
