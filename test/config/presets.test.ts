/**
 * Provider presets (DESIGN §10) and the resolver that applies them: for every preset, the
 * provider the resolver produces from `{ preset }` alone, compared field by field against the
 * table; fields written next to a preset win; an unset key variable makes only that provider
 * unavailable (§3), while local presets work without a key.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_AUTH, resolveConfig, unavailableWarnings, type ResolvedProvider } from "../../src/config/resolve.js";
import { PRESET_NAMES, PRESETS, presetFor, type Preset } from "../../src/providers/presets.js";
import { INJECTED_KEY } from "../fixtures/tokens.js";

function resolveOne(provider: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): ResolvedProvider {
  const config = resolveConfig({ providers: { p: provider } }, { source: { via: "inline" }, env });
  return config.providers.get("p")!;
}


/** What the resolver must make of `{ preset: name }`, derived from the table entry. */
function expectedFrom(preset: Preset, keySet: boolean) {
  const url = new URL(preset.baseUrl);
  return {
    kind: preset.kind,
    origin: url.origin,
    baseUrl: preset.baseUrl,
    auth: preset.auth ?? DEFAULT_AUTH[preset.kind],
    oauth: preset.oauth ?? "strip",
    betasAllow: preset.betas?.allow === undefined ? undefined : [...preset.betas.allow],
    betasRemove: [...(preset.betas?.remove ?? [])],
    queryRemove: [...(preset.query?.remove ?? [])],
    countTokens: preset.countTokens,
    models: Object.entries(preset.models ?? {}),
    apiKeyFrom: keySet && preset.keyEnv ? `env ${preset.keyEnv}` : undefined,
    unavailable: !keySet && preset.keyEnv && !preset.keyOptional ? { env: preset.keyEnv } : undefined,
  };
}

function actual(p: ResolvedProvider) {
  return {
    kind: p.kind,
    origin: p.origin,
    baseUrl: p.baseUrl,
    auth: p.auth,
    oauth: p.oauth,
    betasAllow: p.betasAllow === undefined ? undefined : [...p.betasAllow],
    betasRemove: [...p.betasRemove],
    queryRemove: [...p.queryRemove],
    countTokens: p.countTokens,
    models: p.models.map((m) => [m.glob, m.upstream]),
    apiKeyFrom: p.apiKey?.origin,
    unavailable: p.unavailable,
  };
}

const rows = PRESET_NAMES.map((name) => [name, PRESETS[name] as Preset] as const);

describe("every preset fills the provider from its table entry", () => {
  it.each(rows)("%s, no key variable set", (name, preset) => {
    const p = resolveOne({ preset: name });
    expect(actual(p)).toEqual(expectedFrom(preset, false));
    expect(p.preset).toBe(name);
  });

  it.each(rows.filter(([, p]) => p.keyEnv !== undefined))("%s, its key variable set: the key is injected", (name, preset) => {
    const p = resolveOne({ preset: name }, { [preset.keyEnv!]: INJECTED_KEY });
    expect(actual(p)).toEqual(expectedFrom(preset, true));
    expect(p.apiKey?.reveal()).toBe(INJECTED_KEY);
  });
});

describe("the table itself", () => {
  it.each(rows)("%s cites an https vendor document and a title", (_name, preset) => {
    expect(new URL(preset.doc.url).protocol).toBe("https:");
    expect(preset.doc.title.length).toBeGreaterThan(5);
  });

  it.each(rows.filter(([name]) => name !== "anthropic"))("%s keeps OAuth stripped", (name) => {
    expect(resolveOne({ preset: name }).oauth).toBe("strip");
  });

  it("only anthropic forwards OAuth, and every third party allows only documented betas (none listed: [])", () => {
    expect(resolveOne({ preset: "anthropic" }).oauth).toBe("forward");
    for (const [name, preset] of rows) {
      if (name === "anthropic" || name === "openai") continue;
      expect(preset.betas?.allow, name).toEqual([]);
    }
  });

  it.each(["ollama", "lmstudio", "vllm", "llamacpp"])("local preset %s works with no key at all", (name) => {
    const p = resolveOne({ preset: name });
    expect(p.unavailable).toBeUndefined();
    expect(p.apiKey).toBeUndefined();
    expect(new URL(p.origin).hostname).toBe("127.0.0.1");
  });

  it("presetFor knows only the table's names (no prototype keys)", () => {
    expect(presetFor("deepseek")).toBe(PRESETS.deepseek);
    expect(presetFor("toString")).toBeUndefined();
    expect(presetFor("__proto__")).toBeUndefined();
  });
});

describe("fields written next to a preset win", () => {
  it.each([
    ["baseUrl", { baseUrl: "https://eu.example.test/anthropic" }, (p: ResolvedProvider) => p.baseUrl, "https://eu.example.test/anthropic"],
    ["kind", { kind: "generic" }, (p: ResolvedProvider) => p.kind, "generic"],
    ["auth", { auth: "bearer" }, (p: ResolvedProvider) => p.auth, "bearer"],
    ["oauth", { oauth: "forward" }, (p: ResolvedProvider) => p.oauth, "forward"],
    ["countTokens", { countTokens: true }, (p: ResolvedProvider) => p.countTokens, true],
    ["betas.allow", { betas: { allow: ["context-1m-2025-08-07"] } }, (p: ResolvedProvider) => [...(p.betasAllow ?? [])], ["context-1m-2025-08-07"]],
    ["query.remove", { query: { remove: [] } }, (p: ResolvedProvider) => [...p.queryRemove], []],
    ["models (replaces the preset's map whole)", { models: { "claude-*haiku*": "deepseek-flash" } }, (p: ResolvedProvider) => p.models.map((m) => [m.glob, m.upstream]), [["claude-*haiku*", "deepseek-flash"]]],
    ["apiKey", { apiKey: { env: "MY_DS_KEY" } }, (p: ResolvedProvider) => p.unavailable, { env: "MY_DS_KEY" }],
  ] as const)("%s", (_field, fields, read, expected) => {
    expect(read(resolveOne({ preset: "deepseek", ...fields }))).toEqual(expected);
  });

  it("betas.remove next to a preset keeps the preset's betas.allow", () => {
    const p = resolveOne({ preset: "deepseek", betas: { remove: ["x-beta"] } });
    expect([...p.betasRemove]).toEqual(["x-beta"]);
    expect([...p.betasAllow!]).toEqual([]);
  });

  it("a qwen models default is replaced by the user's map, in key order", () => {
    const p = resolveOne({ preset: "qwen", models: { "claude-*haiku*": "qwen-flash", "*": "qwen3-max" } });
    expect(p.models.map((m) => m.glob)).toEqual(["claude-*haiku*", "*"]);
    expect(p.models[0]!.pattern.test("claude-haiku-4-5")).toBe(true);
    expect(p.models[1]!.pattern.test("anything")).toBe(true);
  });

  it("an apiKey written on a local preset is required: unset makes it unavailable", () => {
    expect(resolveOne({ preset: "ollama", apiKey: { env: "OLLAMA_KEY" } }).unavailable).toEqual({ env: "OLLAMA_KEY" });
    expect(resolveOne({ preset: "lmstudio" }, { LM_API_TOKEN: INJECTED_KEY }).apiKey?.origin).toBe("env LM_API_TOKEN");
  });
});

describe("without a preset", () => {
  it("kind and baseUrl stay required, with an error naming the presets", () => {
    let error: unknown;
    try {
      resolveOne({ apiKey: { env: "X" } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/providers\.p\.kind: required unless the provider names a preset \(anthropic, openai, deepseek/);
    expect(message).toMatch(/providers\.p\.baseUrl: required unless/);
  });

  it("an unknown preset lists the presets", () => {
    expect(() => resolveOne({ preset: "deepsek" })).toThrow(/providers\.p\.preset: unknown preset; the presets are anthropic, openai, deepseek, .*vercel \(llm-relay providers lists them\)/);
  });

  it("models: globs in key order, * catches all", () => {
    const p = resolveOne({ kind: "anthropic", baseUrl: "http://127.0.0.1:9", models: { "claude-*-4-5": "a", "*": "b" } });
    expect(p.models.map((m) => [m.glob, m.upstream])).toEqual([["claude-*-4-5", "a"], ["*", "b"]]);
    expect(p.models[0]!.pattern.test("claude-haiku-4-5")).toBe(true);
    expect(p.models[0]!.pattern.test("claude-haiku-4-50")).toBe(false);
    expect(p.models[1]!.pattern.test("")).toBe(true);
    expect(p.countTokens).toBe(true);
    expect(p.betasAllow).toBeUndefined();
  });
});

describe("an unset key variable (§3)", () => {
  it("makes that provider unavailable and leaves the rest of the config running", () => {
    const config = resolveConfig(
      { providers: { ds: { preset: "deepseek" }, or: { preset: "openrouter" }, local: { preset: "ollama" } } },
      { source: { via: "inline" }, env: { OPENROUTER_API_KEY: INJECTED_KEY } },
    );
    expect(config.providers.get("ds")!.unavailable).toEqual({ env: "DEEPSEEK_API_KEY" });
    expect(config.providers.get("or")!.unavailable).toBeUndefined();
    expect(config.providers.get("local")!.unavailable).toBeUndefined();
    expect(config.providers.get("anthropic")!.unavailable).toBeUndefined();
    const warnings = unavailableWarnings(config);
    expect(warnings).toEqual([
      "provider ds is unavailable: set DEEPSEEK_API_KEY (its apiKey names that environment variable, which is not set); requests routed to ds get a 503, every other provider works",
    ]);
    expect(warnings.join("")).not.toContain(INJECTED_KEY);
  });

  it("an empty variable counts as unset; a variable with CR/LF is still an error (value not shown)", () => {
    expect(resolveOne({ preset: "zai" }, { ZAI_API_KEY: "" }).unavailable).toEqual({ env: "ZAI_API_KEY" });
    expect(() => resolveOne({ preset: "zai" }, { ZAI_API_KEY: `${INJECTED_KEY}\r\nx: y` })).toThrow(/ZAI_API_KEY contains CR, LF or NUL \(value not shown\)/);
  });
});
