/**
 * Whether an llm-relay already answers on an address: a GET of `/_relay/health` (loopback, no
 * credentials, a short timeout). `start` and `exec` use it to explain a taken port, `doctor` to
 * tell "another program" from "another relay".
 */
import http from "node:http";

export interface RelayFound {
  version: string;
}

/** Resolves with the relay's version when one answers, otherwise undefined (never rejects). */
export function probeRelay(host: string, port: number, timeoutMs = 2000): Promise<RelayFound | undefined> {
  const bare = host.replace(/^\[|\]$/g, "");
  // A wildcard listener is reached locally on loopback.
  const target = bare === "0.0.0.0" ? "127.0.0.1" : bare === "::" ? "::1" : bare;
  const hostHeader = `${target.includes(":") ? `[${target}]` : target}:${port}`;
  return new Promise((resolve) => {
    const req = http.get({ host: target, port, path: "/_relay/health", agent: false, timeout: timeoutMs, headers: { host: hostHeader } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body.length < 4096 ? (body += d) : undefined));
      res.on("end", () => {
        try {
          const parsed = JSON.parse(body) as { ok?: unknown; version?: unknown };
          resolve(res.statusCode === 200 && parsed.ok === true ? { version: typeof parsed.version === "string" ? parsed.version : "unknown" } : undefined);
        } catch {
          resolve(undefined);
        }
      });
      res.on("error", () => resolve(undefined));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(undefined));
  });
}
