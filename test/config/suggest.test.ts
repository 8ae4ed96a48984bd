/**
 * "Did you mean" for unknown config keys: the closest key the schema knows at that level, offered
 * only when it is close; and what the built binary prints for a config with typos (exit 1).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { configSchema } from "../../src/config/schema.js";
import { closestKey, knownKeysAt } from "../../src/config/suggest.js";
import { validateConfig } from "../../src/config/resolve.js";
import { cleanEnv, ROOT, runCli } from "../helpers/cli.js";

describe("knownKeysAt walks the schema to the level of the unknown key", () => {
  it.each<[string, PropertyKey[], string[]]>([
    ["top level", [], ["port", "host", "token", "providers", "routes", "defaultProvider", "timeouts", "limits", "inspect"]],
    ["a provider (record value)", ["providers", "myproxy"], ["preset", "kind", "baseUrl", "apiKey", "auth", "oauth", "clientKeys", "headers", "betas", "query", "models", "countTokens"]],
    ["a provider's headers", ["providers", "x", "headers"], ["set", "remove"]],
    ["a route (array element)", ["routes", 3], ["model", "path", "header", "when", "provider"]],
    ["a route's when", ["routes", 0, "when"], ["thinking", "tools", "image", "minInputTokens", "stream"]],
    ["inspect (false | object union)", ["inspect"], ["maxBytes", "maxBodyBytes"]],
    ["apiKey's { env } (string | object union)", ["providers", "x", "apiKey"], ["env"]],
    ["a path that does not exist", ["nope", "deeper"], []],
  ])("%s", (_name, at, keys) => {
    expect(knownKeysAt(configSchema, at)).toEqual(keys);
  });
});

describe("closestKey", () => {
  const top = knownKeysAt(configSchema, []);
  const provider = knownKeysAt(configSchema, ["providers", "x"]);
  const timeouts = knownKeysAt(configSchema, ["timeouts"]);
  it.each<[string, readonly string[], string | undefined]>([
    ["provders", top, "providers"],
    ["provider", top, "providers"],
    ["rotues", top, "routes"],
    ["defaultprovider", top, "defaultProvider"], // case-insensitive match wins
    ["DEFAULTPROVIDER", top, "defaultProvider"],
    ["baseURL", provider, "baseUrl"],
    ["baseurl", provider, "baseUrl"],
    ["base_url", provider, "baseUrl"],
    ["apikey", provider, "apiKey"],
    ["api_key", provider, "apiKey"],
    ["clientkey", provider, "clientKeys"],
    ["idelMs", timeouts, "idleMs"],
    ["connectTimeout", timeouts, undefined], // too far from connectMs
    ["foo", timeouts, undefined],
    ["x", top, undefined],
    ["listen", top, undefined],
    ["verbose", top, undefined],
  ])("%s → %s", (input, known, expected) => {
    expect(closestKey(input, known)).toBe(expected);
  });
});

describe("validateConfig names each unknown key with its suggestion", () => {
  it.each<[string, unknown, string]>([
    ["top level", { provders: {} }, '  (top level): unknown key "provders" (did you mean "providers"?)'],
    ["in a provider", { providers: { p: { preset: "ollama", baseURL: "http://127.0.0.1:1" } } }, '  providers.p: unknown key "baseURL" (did you mean "baseUrl"?)'],
    ["in a route", { routes: [{ modle: "x", provider: "anthropic" }] }, '  routes.0: unknown key "modle" (did you mean "model"?)'],
    ["no close key: the level's keys", { limits: { size: 1 } }, '  limits: unknown key "size"; the keys here are maxBodyBytes'],
    ["a control character stays escaped", { "pro\u001bviders": {} }, '  (top level): unknown key "pro\\u001bviders" (did you mean "providers"?)'],
  ])("%s", (_name, raw, line) => {
    expect(() => validateConfig(raw, "test.json")).toThrow(line);
  });

  it("two unknown keys on one object get a line each", () => {
    expect(() => validateConfig({ timeouts: { idelMs: 1, conectMs: 2 } }, "t.json")).toThrow(
      'invalid config in t.json:\n  timeouts: unknown key "idelMs" (did you mean "idleMs"?)\n  timeouts: unknown key "conectMs" (did you mean "connectMs"?)',
    );
  });
});

describe("the built binary prints the suggestions", () => {
  const home = mkdtempSync(path.join(tmpdir(), "llm-relay-suggest-"));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it.each([["config"], ["start"], ["explain"]])("%s exits 1 with did-you-mean lines and no stack trace", async (command) => {
    const file = path.join(home, "typos.json");
    writeFileSync(file, JSON.stringify({ provders: {}, providers: { ollama: { preset: "ollama", baseURL: "http://127.0.0.1:11434" } } }));
    const result = await runCli([command, "-c", file], { env: cleanEnv(home), cwd: home });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      `llm-relay: invalid config in ${file}:\n` +
        '  providers.ollama: unknown key "baseURL" (did you mean "baseUrl"?)\n' +
        '  (top level): unknown key "provders" (did you mean "providers"?)\n',
    );
  });
});

describe("the README's bad.json example", () => {
  const home = mkdtempSync(path.join(tmpdir(), "llm-relay-suggest-readme-"));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it("prints exactly what the README shows (only the folder differs)", async () => {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    const at = readme.indexOf("<!-- tested-bad-config -->");
    expect(at).toBeGreaterThan(-1);
    const [, config, shown] = /```json\n([\s\S]*?)\n```\s*```\n\$ llm-relay start -c bad\.json\n([\s\S]*?)\n```/.exec(readme.slice(at))!;
    writeFileSync(path.join(home, "bad.json"), config!);
    const result = await runCli(["start", "-c", "bad.json"], { env: cleanEnv(home), cwd: home });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().replace(home, "/home/me")).toBe(shown);
  });
});
