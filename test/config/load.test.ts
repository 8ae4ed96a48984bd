/**
 * Finding, loading and resolving the config (DESIGN §3): the search order, `{ env }` secrets,
 * validation messages that name the file and key path without printing a secret, `.ts` configs,
 * and the messages for files that cannot be loaded at all.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { describeLoadError, loadConfig, loaderErrorLine } from "../../src/config/load.js";
import { describeJsonError } from "../../src/config/loaders.js";
import { ConfigError, unavailableWarnings } from "../../src/config/resolve.js";
import { approveFile, TrustError } from "../../src/config/trust.js";
import { startRelay } from "../../src/index.js";
import { INJECTED_KEY, OPENROUTER_KEY } from "../fixtures/tokens.js";

let root: string;
let home: string;
const savedEnv = { HOME: process.env.HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME };

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), "llm-relay-config-"));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});
afterEach(() => {
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

let seq = 0;
/**
 * A fresh HOME with a project below it. cosmiconfig reads HOME (its search stops there) and
 * XDG_CONFIG_HOME (the user folder) from the process environment, so set them for real.
 */
function sandbox(): { home: string; project: string; nested: string; userDir: string; env: NodeJS.ProcessEnv } {
  home = path.join(root, `home${++seq}`);
  const project = path.join(home, "project");
  const nested = path.join(project, "packages", "app", "src");
  const userDir = path.join(home, ".config", "llm-relay");
  mkdirSync(nested, { recursive: true });
  process.env.HOME = home;
  process.env.XDG_CONFIG_HOME = path.join(home, ".config");
  return { home, project, nested, userDir, env: { HOME: home, XDG_CONFIG_HOME: path.join(home, ".config") } };
}

function write(file: string, content: unknown): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, typeof content === "string" ? content : JSON.stringify(content));
  return file;
}

async function loadError(options: Parameters<typeof loadConfig>[0]): Promise<ConfigError> {
  try {
    await loadConfig(options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected loadConfig to fail");
}

describe("where the config comes from", () => {
  it("an empty folder gets the embedded default (official Anthropic and OpenAI)", async () => {
    const { nested, env } = sandbox();
    const config = await loadConfig({ cwd: nested, env });
    expect(config.source).toEqual({ via: "default" });
    expect([...config.providers.values()].map((p) => [p.name, p.baseUrl])).toEqual([
      ["anthropic", "https://api.anthropic.com"],
      ["openai", "https://api.openai.com"],
    ]);
  });

  it("a project file is found from a nested folder", async () => {
    const { project, nested, env } = sandbox();
    const file = write(path.join(project, ".llm-relayrc.json"), { port: 9001 });
    const config = await loadConfig({ cwd: nested, env });
    expect(config.source).toEqual({ file, via: "search" });
    expect(config.port).toBe(9001);
  });

  it.each(["llm-relay.config.mjs", ".llm-relayrc.yaml", ".config/llm-relayrc.json", "package.json"])(
    "the project file may be %s",
    async (name) => {
      const { project, nested, env } = sandbox();
      const content =
        name.endsWith(".mjs") ? "export default { port: 9002 };"
        : name.endsWith(".yaml") ? "port: 9002\n"
        : name === "package.json" ? { name: "app", "llm-relay": { port: 9002 } }
        : { port: 9002 };
      const file = write(path.join(project, name), content);
      // A project config that is code runs when loaded, so it loads only once approved (§8).
      if (name.endsWith(".mjs")) await approveFile(file, env);
      const config = await loadConfig({ cwd: nested, env });
      expect(config.source).toEqual({ file, via: "search" });
      expect(config.port).toBe(9002);
    },
  );

  it.each(["llm-relay.config.mjs", ".llm-relayrc.cjs", "llm-relay.config.ts"])(
    "a project %s that is not approved is refused without being run",
    async (name) => {
      const { project, nested, env } = sandbox();
      const marker = path.join(project, "ran");
      const code = `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "x"); module.exports = { port: 9010 };`;
      const file = write(path.join(project, name), name.endsWith(".cjs") ? code : `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "x");\nexport default { port: 9010 };`);
      const error = await loadConfig({ cwd: nested, env }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TrustError);
      expect((error as Error).message).toContain(`llm-relay trust ${file}`);
      expect(existsSync(marker)).toBe(false);
      // Approved, it loads (and runs); edited afterwards, it is refused again.
      await approveFile(file, env);
      expect((await loadConfig({ cwd: nested, env })).port).toBe(9010);
      expect(existsSync(marker)).toBe(true);
      writeFileSync(file, `${readFileSync(file, "utf8")}\n// edited`);
      await expect(loadConfig({ cwd: nested, env })).rejects.toBeInstanceOf(TrustError);
    },
  );

  it("the user config folder serves when the project has no file", async () => {
    const { nested, userDir, env } = sandbox();
    const file = write(path.join(userDir, "config.json"), { port: 9003 });
    const config = await loadConfig({ cwd: nested, env });
    expect(config.source).toEqual({ file, via: "user" });
    expect(config.port).toBe(9003);
  });

  it("a project file wins over the user config folder", async () => {
    const { project, nested, userDir, env } = sandbox();
    write(path.join(userDir, "config.json"), { port: 9003 });
    const file = write(path.join(project, ".llm-relayrc.json"), { port: 9004 });
    const config = await loadConfig({ cwd: nested, env });
    expect(config.source).toEqual({ file, via: "search" });
  });

  it("LLM_RELAY_CONFIG wins over the search, --config wins over LLM_RELAY_CONFIG", async () => {
    const { project, nested, home, env } = sandbox();
    write(path.join(project, ".llm-relayrc.json"), { port: 9004 });
    const fromEnv = write(path.join(home, "env.json"), { port: 9005 });
    const fromFlag = write(path.join(home, "flag.json"), { port: 9006 });
    const viaEnv = await loadConfig({ cwd: nested, env: { ...env, LLM_RELAY_CONFIG: fromEnv } });
    expect(viaEnv.source).toEqual({ file: fromEnv, via: "env" });
    expect(viaEnv.port).toBe(9005);
    const viaFlag = await loadConfig({ cwd: nested, configFile: fromFlag, env: { ...env, LLM_RELAY_CONFIG: fromEnv } });
    expect(viaFlag.source).toEqual({ file: fromFlag, via: "flag" });
    expect(viaFlag.port).toBe(9006);
  });

  it("--config is resolved against the working folder", async () => {
    const { nested, env } = sandbox();
    const file = write(path.join(nested, "relay.json"), { port: 9007 });
    const config = await loadConfig({ cwd: nested, configFile: "relay.json", env });
    expect(config.source.file).toBe(file);
  });

  it("a --config file that does not exist is an error naming it", async () => {
    const { nested, env } = sandbox();
    const error = await loadError({ cwd: nested, configFile: "missing.json", env });
    expect(error.message).toBe(`config file not found: ${path.join(nested, "missing.json")}`);
  });

  it("a .ts config loads with the relay's own loader (jiti)", async () => {
    const { project, nested, env } = sandbox();
    const file = write(
      path.join(project, "llm-relay.config.ts"),
      [
        'type Kind = "anthropic" | "openai";',
        "interface Provider { kind: Kind; baseUrl: string }",
        'const local: Provider = { kind: "openai", baseUrl: "http://127.0.0.1:11434" };',
        "const port: number = 9008;",
        "export default { port, providers: { local } };",
      ].join("\n"),
    );
    await approveFile(file, env);
    const config = await loadConfig({ cwd: nested, env });
    expect(config.source).toEqual({ file, via: "search" });
    expect(config.port).toBe(9008);
    expect(config.providers.get("local")?.baseUrl).toBe("http://127.0.0.1:11434");
  });
});

describe("{ env } secrets", () => {
  it("resolve from the environment", async () => {
    const { home, env } = sandbox();
    const file = write(path.join(home, "c.json"), {
      providers: { or: { kind: "anthropic", baseUrl: "https://openrouter.ai/api", apiKey: { env: "OPENROUTER_API_KEY" } } },
    });
    const config = await loadConfig({ configFile: file, env: { ...env, OPENROUTER_API_KEY: OPENROUTER_KEY } });
    expect(config.providers.get("or")?.apiKey?.reveal()).toBe(OPENROUTER_KEY);
    // Printing the config never shows it.
    expect(JSON.stringify(Object.fromEntries(config.providers))).not.toContain(OPENROUTER_KEY);
  });

  it("a missing variable makes that provider unavailable (§3), naming the variable; the config still loads", async () => {
    const { home, env } = sandbox();
    const file = write(path.join(home, "c.json"), {
      token: INJECTED_KEY,
      providers: { or: { kind: "anthropic", baseUrl: "https://openrouter.ai/api", apiKey: { env: "OPENROUTER_API_KEY" } } },
    });
    const config = await loadConfig({ configFile: file, env });
    const or = config.providers.get("or")!;
    expect(or.unavailable).toEqual({ env: "OPENROUTER_API_KEY" });
    expect(or.apiKey).toBeUndefined();
    expect(config.providers.get("anthropic")!.unavailable).toBeUndefined();
    expect(unavailableWarnings(config)).toEqual([
      "provider or is unavailable: set OPENROUTER_API_KEY (its apiKey names that environment variable, which is not set); requests routed to or get a 503, every other provider works",
    ]);
    expect(JSON.stringify(unavailableWarnings(config))).not.toContain(INJECTED_KEY);
  });

  it("an empty variable counts as missing; the relay token's is an error (it guards the whole relay)", async () => {
    const { home, env } = sandbox();
    const file = write(path.join(home, "c.json"), { token: { env: "RELAY_TOKEN_VAR" } });
    const error = await loadError({ configFile: file, env: { ...env, RELAY_TOKEN_VAR: "" } });
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/token: environment variable RELAY_TOKEN_VAR is not set/);
  });
});

describe("validation errors name the file and the key path", () => {
  it.each([
    ["wrong provider kind", { providers: { local: { kind: "ollama", baseUrl: "http://127.0.0.1:1" } } }, "providers.local.kind"],
    ["baseUrl not http(s)", { providers: { local: { kind: "openai", baseUrl: "ftp://example.com" } } }, "providers.local.baseUrl"],
    ["baseUrl not a URL", { providers: { local: { kind: "openai", baseUrl: "localhost:11434" } } }, "providers.local.baseUrl"],
    ["unknown key (a typo)", { providers: { local: { kind: "openai", baseUrl: "http://127.0.0.1:1", apikey: "x" } } }, "providers.local"],
    ["provider name with a space", { providers: { "my gw": { kind: "openai", baseUrl: "http://127.0.0.1:1" } } }, "providers.my gw"],
    // The name is also a path prefix: "v1" would swallow /v1/messages and strip the /v1.
    ["provider named like an API version", { providers: { v1: { kind: "openai", baseUrl: "http://127.0.0.1:1" } } }, "providers.v1"],
    ["port out of range", { port: 70000 }, "port"],
    ["route to an unknown provider", { routes: [{ path: "/v1", provider: "nope" }] }, "routes.0.provider"],
    ["route with no condition", { routes: [{ provider: "anthropic" }] }, "routes.0"],
    ["unknown defaultProvider", { defaultProvider: "nope" }, "defaultProvider"],
    ["timeout not a positive integer", { timeouts: { headersMs: -1 } }, "timeouts.headersMs"],
    ["limit not a number", { limits: { maxBodyBytes: "32MB" } }, "limits.maxBodyBytes"],
  ])("%s → %s", async (_name, raw, keyPath) => {
    const { home, env } = sandbox();
    const file = write(path.join(home, "bad.json"), raw);
    const error = await loadError({ configFile: file, env });
    expect(error.message.split("\n")[0]).toBe(`invalid config in ${file}:`);
    expect(error.message).toMatch(new RegExp(`^  ${keyPath.replace(/\./g, "\\.")}: \\S`, "m"));
    // Every message says what was expected, not just that something is wrong.
    expect(error.message).not.toMatch(/Invalid key in record/);
  });

  it("a literal key with a line break is refused without echoing it", async () => {
    const { home, env } = sandbox();
    const file = write(path.join(home, "bad.json"), {
      providers: { or: { kind: "anthropic", baseUrl: "https://openrouter.ai/api", apiKey: `${OPENROUTER_KEY}\r\nx-evil: 1` } },
    });
    const error = await loadError({ configFile: file, env });
    expect(error.message).toContain("providers.or.apiKey");
    expect(error.message).not.toContain(OPENROUTER_KEY);
  });
});

describe("files that cannot be loaded", () => {
  it.each([
    ["broken JSON", "c.json", `{"providers": {"or": {"apiKey": "${OPENROUTER_KEY}",}}}`, /^cannot load config .*c\.json: .*JSON/],
    ["broken YAML", ".llm-relayrc.yaml", `port: [1\napiKey: ${OPENROUTER_KEY}\n`, /^cannot load config .*\.llm-relayrc\.yaml: .*\(2:1\)$/],
    ["TS syntax error", "c.ts", `const port: number = 1 +;\nexport default { apiKey: "${OPENROUTER_KEY}", port };`, /^cannot load config .*c\.ts: syntax error at line 1, column 25: Unexpected token$/],
    ["JS that throws", "c.mjs", 'throw new Error("config exploded");', /^cannot load config .*c\.mjs: config exploded$/],
  ])("%s: one clear line that never quotes the file", async (_name, name, content, pattern) => {
    const { home, env } = sandbox();
    const file = write(path.join(home, name), content);
    const error = await loadError({ configFile: file, env });
    expect(error.message).toMatch(pattern);
    expect(error.message).not.toContain("\n");
    expect(error.message).not.toContain(OPENROUTER_KEY.slice(0, 12));
  });

  // Review findings: cosmiconfig's own set-up and `$import` used to run project code unasked.
  // §8: `$import` is refused everywhere alike, found in the parsed data before cosmiconfig follows it.
  describe("$import is refused in every data config, without loading what it imports", () => {
    /** File name → content importing `./evil.cjs` (from the file's own folder). */
    const FORMATS: Record<string, string> = {
      ".llm-relayrc.json": JSON.stringify({ $import: "./evil.cjs", port: 9020 }),
      ".llm-relayrc.yaml": "$import: ./evil.cjs\nport: 9020\n",
      ".llm-relayrc.yml": "$import: [./evil.cjs]\n",
      ".llm-relayrc": '{"$import": "./evil.cjs"}',
      ".config/llm-relayrc.json": JSON.stringify({ $import: ["./evil.cjs"] }),
      "package.json": JSON.stringify({ name: "x", "llm-relay": { $import: "./evil.cjs" } }),
      "config.json": JSON.stringify({ $import: "./evil.cjs" }),
      "config.yaml": "$import: ./evil.cjs\n",
    };
    const projectNames = Object.keys(FORMATS).filter((n) => !n.startsWith("config."));
    const cases = [
      ...(["search", "flag", "env"] as const).flatMap((via) => projectNames.map((name) => [name, via] as const)),
      ["config.json", "user"] as const,
      ["config.yaml", "user"] as const,
    ];
    it.each(cases)("%s found by %s", async (name, via) => {
      const { project, nested, userDir, home, env } = sandbox();
      const dir = via === "user" ? userDir : via === "search" ? project : path.join(home, "chosen");
      const file = write(path.join(dir, name), FORMATS[name]);
      const marker = path.join(home, "ran");
      write(path.join(path.dirname(file), "evil.cjs"), `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "x"); module.exports = {};`);
      const options = via === "flag" ? { configFile: file, env } : via === "env" ? { env: { ...env, LLM_RELAY_CONFIG: file } } : { cwd: nested, env };
      const error = await loadConfig(options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(`refusing to load ${file}: it uses $import`);
      expect(existsSync(marker)).toBe(false);
    });
  });

  it("cosmiconfig's meta config (.config/config.js, package.json) in the working folder is neither run nor fatal", async () => {
    const { project, env } = sandbox();
    const marker = path.join(project, "meta-ran");
    write(path.join(project, ".config", "config.js"), `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "x"); module.exports = {};`);
    const good = write(path.join(project, "ok.json"), { port: 9011 });
    const cwd = process.cwd();
    process.chdir(project);
    try {
      expect((await loadConfig({ configFile: good, env })).port).toBe(9011);
      expect((await loadConfig({ env })).source.via).toBe("default");
      // A broken package.json with a secret in it: --config still works, a search names the file and quotes nothing.
      write(path.join(project, "package.json"), `{"name":"x","scripts":{"t":"${OPENROUTER_KEY}"},}`);
      expect((await loadConfig({ configFile: good, env })).port).toBe(9011);
      const error = await loadError({ env });
      expect(error.message).toMatch(/^cannot load config .*package\.json: /);
      expect(error.message).not.toContain(OPENROUTER_KEY.slice(0, 12));
    } finally {
      process.chdir(cwd);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it("a loader's colored code frame (CI=true turns color on) is dropped, and a quoted key is redacted", () => {
    const colored =
      `JSON Error in /x/c.json:\n\u001b[0m\u001b[31m\u001b[1m>\u001b[22m\u001b[39m\u001b[90m 1 |\u001b[39m {"apiKey": "${OPENROUTER_KEY}",}\n` +
      "Unexpected token } in JSON at position 20";
    expect(loaderErrorLine(colored)).toBe("Unexpected token } in JSON at position 20");
    const quoting = `Unexpected token in "${OPENROUTER_KEY}"`;
    expect(loaderErrorLine(quoting)).not.toContain(OPENROUTER_KEY.slice(10));
  });

  it("a searched file that cannot be loaded is named too", async () => {
    const { project, nested, env } = sandbox();
    const file = write(path.join(project, ".llm-relayrc.json"), "{ nope");
    const error = await loadError({ cwd: nested, env });
    expect(error.message).toContain(`cannot load config ${file}:`);
  });

  it.each([
    ["ESM import", "Cannot find package 'llm-relay' imported from /p/llm-relay.config.mjs"],
    ["CommonJS require", "Cannot find module 'llm-relay'\nRequire stack:\n- /p/llm-relay.config.mjs"],
  ])("a config importing the other project's name is told the package's own (%s)", (_name, message) => {
    const error = describeLoadError("/p/llm-relay.config.mjs", Object.assign(new Error(message), { code: "ERR_MODULE_NOT_FOUND" }));
    expect(error.message).toBe(
      'cannot load config /p/llm-relay.config.mjs: it imports "llm-relay", which is not this relay\'s package; import from "llm-relay-cli" instead',
    );
  });

  it.each([
    ["Node 20", "Expected double-quoted property name in JSON at position 12", "invalid JSON at line 3, column 1: Expected double-quoted property name"],
    ["Node 22", "Expected ',' or '}' after property value in JSON at position 12 (line 3 column 1)", "invalid JSON at line 3, column 1: Expected ',' or '}' after property value"],
    ["quoting the text", `Unexpected token 'n', "{\n  \"a\": nope" is not valid JSON`, "invalid JSON: unexpected character 'n'"],
    ["end of input", "Unexpected end of JSON input", "invalid JSON: the file ends in the middle of a value"],
  ])("a JSON error gives line and column, never the text (%s)", (_name, message, expected) => {
    expect(describeJsonError(message, '{\n  "a": 1,\n}')).toBe(expected);
  });

  it("loaderErrorLine drops the header, code frames and quoted source", () => {
    const parseJson = `JSON Error in /p/c.json: \n\n> 1 | {"apiKey": "sk-x",}\n    |                  ^\n\nExpected double-quoted property name in JSON at position 18 while parsing '{"apiKey": "sk-x",}' \n`;
    expect(loaderErrorLine(parseJson)).toBe("Expected double-quoted property name in JSON at position 18");
  });
});

describe("startRelay() from the package", () => {
  it("holds a searched project config to the same approval as the CLI (§8)", async () => {
    const { project, env } = sandbox();
    const file = write(path.join(project, ".llm-relayrc.json"), {
      providers: { anthropic: { kind: "anthropic", baseUrl: "https://evil.example.com", oauth: "forward" } },
    });
    const cwd = process.cwd();
    process.chdir(project);
    try {
      const error = await startRelay({ port: 0, env }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TrustError);
      expect((error as Error).message).toContain("https://evil.example.com");
      await approveFile(file, env);
      const relay = await startRelay({ port: 0, env });
      await relay.close();
    } finally {
      process.chdir(cwd);
    }
  });
});
