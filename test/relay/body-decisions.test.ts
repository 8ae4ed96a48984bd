/**
 * Model rewrite over loopback (DESIGN §10): a provider's `models` rewrites only the bytes of the
 * top-level "model" string (content-length follows). The upstream's sha256 of what it received is
 * the proof.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, open, readAll, send, sha256 } from "../helpers/client.js";
import { startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { mockedDefaults, startTestRelay, type TestRelay } from "../helpers/relay.js";

const MiB = 1024 * 1024;

let upstream: MockUpstream;
/** `local` renames haiku-class models; a route sends them there. */
let rewriting: TestRelay;

const LOCAL_MODELS = {
  "claude-*haiku*": "qwen3-coder:30b",
  "weird-*": 'we"ird\\näme\u0001日本',
  "claude-opus-*": "opus-local",
};

beforeAll(async () => {
  upstream = await startMockUpstream();
  rewriting = await startTestRelay({
    providers: {
      ...mockedDefaults(upstream.url).providers,
      local: { kind: "anthropic", baseUrl: `${upstream.url}/local`, models: LOCAL_MODELS },
    },
    routes: [
      { model: "claude-*haiku*", provider: "local" },
      { model: "weird-*", provider: "local" },
      { path: "/local-only", provider: "local" },
    ],
  });
});
afterAll(async () => {
  await rewriting?.close();
  await upstream?.close();
});

/** The body with its top-level model token replaced, computed independently of the relay. */
function expectedBytes(text: string, from: string, to: string): Buffer {
  const token = JSON.stringify(from);
  const at = text.lastIndexOf(`"model":${token}`) + '"model":'.length;
  return Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(JSON.stringify(to)), Buffer.from(text.slice(at + token.length))]);
}

function bigBody(size: number, model: string, modelAt: "first" | "last"): string {
  const filler = randomBytes(Math.ceil((size * 3) / 4)).toString("base64");
  const rest = `"metadata":{"model":"nested"},"messages":[{"role":"user","content":"${filler}","model":"not-top"}],"max_tokens":8`;
  return modelAt === "first" ? `{"model":${JSON.stringify(model)},${rest}}` : `{${rest},"model":${JSON.stringify(model)}}`;
}

describe("models: the upstream receives the body byte-identical except the model value", () => {
  it("a 20 MiB body, model first: streamed (the upstream starts before the client finishes), sha256 of the expected bytes", async () => {
    const text = bigBody(20 * MiB, "claude-haiku-4-5", "first");
    const body = Buffer.from(text);
    const expected = expectedBytes(text, "claude-haiku-4-5", "qwen3-coder:30b");
    const before = upstream.received.length;
    const startedBefore = upstream.started;
    const { req, response } = open(`${rewriting.url}/v1/messages`, {
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "content-length": String(body.length) },
      body: body.subarray(0, MiB),
      keepOpen: true,
    });
    // The relay decides from the first chunks and forwards them while 19 MiB are still unsent.
    await eventually(() => upstream.started > startedBefore, 10_000, "the upstream request to start");
    req.end(body.subarray(MiB));
    const res = await response;
    await readAll(res);
    expect(res.statusCode).toBe(200);
    const got = upstream.received[before]!;
    expect(got.url).toBe("/local/v1/messages");
    expect(got.headers["content-length"]).toBe(String(expected.length));
    expect(got.bytes).toBe(expected.length);
    expect(got.sha256).toBe(sha256(expected));
  });

  it("an 8 MiB body, model last: buffered up to maxBodyBytes, sha256 of the expected bytes", async () => {
    const text = bigBody(8 * MiB, "claude-3-5-haiku-20241022", "last");
    const expected = expectedBytes(text, "claude-3-5-haiku-20241022", "qwen3-coder:30b");
    const before = upstream.received.length;
    const res = await send(`${rewriting.url}/v1/messages`, { headers: { "content-type": "application/json" }, body: text });
    expect(res.status).toBe(200);
    const got = upstream.received[before]!;
    expect(got.url).toBe("/local/v1/messages");
    expect(got.headers["content-length"]).toBe(String(expected.length));
    expect(got.sha256).toBe(sha256(expected));
  });

  const small: Array<[string, string, string, string | undefined]> = [
    ["ASCII, model first", '{"model":"claude-haiku-4-5","max_tokens":8}', "/v1/messages", '{"model":"qwen3-coder:30b","max_tokens":8}'],
    ["model last, pretty-printed", '{\n  "max_tokens": 8,\n  "model": "claude-haiku-4-5"\n}', "/v1/messages", '{\n  "max_tokens": 8,\n  "model": "qwen3-coder:30b"\n}'],
    ["non-ASCII elsewhere stays byte for byte", '{"system":"héllo ✓ 🤖","model":"claude-haiku-4-5","x":"日本"}', "/v1/messages", '{"system":"héllo ✓ 🤖","model":"qwen3-coder:30b","x":"日本"}'],
    ["an escaped client value is matched decoded", '{"model":"claude-\\u0068aiku-4-5"}', "/v1/messages", '{"model":"qwen3-coder:30b"}'],
    ["a new name that needs escaping (quote, backslash, control, non-ASCII)", '{"model":"weird-1","max_tokens":8}', "/v1/messages", `{"model":${JSON.stringify(LOCAL_MODELS["weird-*"])},"max_tokens":8}`],
    ["nested model keys are not top-level", '{"metadata":{"model":"claude-haiku-4-5"},"messages":[{"model":"claude-haiku-4-5"}],"model":"claude-haiku-4-5"}', "/v1/messages",
      '{"metadata":{"model":"claude-haiku-4-5"},"messages":[{"model":"claude-haiku-4-5"}],"model":"qwen3-coder:30b"}'],
    ["no model: body unchanged", '{"max_tokens":8,"messages":[]}', "/local-only/v1/messages", undefined],
    ["a model that is not a string: body unchanged", '{"model":42,"max_tokens":8}', "/local-only/v1/messages", undefined],
    ["only nested model keys: body unchanged", '{"metadata":{"model":"claude-haiku-4-5"}}', "/local-only/v1/messages", undefined],
    ["a model no glob matches: body unchanged", '{"model":"claude-sonnet-4-5"}', "/local-only/v1/messages", undefined],
  ];

  it.each(small)("%s (Content-Length and chunked)", async (_name, text, target, rewritten) => {
    const expected = Buffer.from(rewritten ?? text);
    for (const framing of ["content-length", "chunked"] as const) {
      const bytes = Buffer.from(text);
      // Chunked: split inside the model value's bytes, so the span crosses chunk boundaries.
      const at = Math.max(1, bytes.indexOf("model") + 9);
      const body = framing === "chunked" ? [bytes.subarray(0, at), bytes.subarray(at, at + 3), bytes.subarray(at + 3)].filter((b) => b.length > 0) : bytes;
      const before = upstream.received.length;
      const res = await send(`${rewriting.url}${target}`, { headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" }, body });
      expect(res.status).toBe(200);
      const got = upstream.received[before]!;
      expect(got.url.startsWith("/local/")).toBe(true);
      expect(got.body.toString("utf8")).toBe(expected.toString("utf8"));
      expect(got.sha256).toBe(sha256(expected));
      // A chunked body read whole before routing goes up with its (new) length too.
      if (framing === "content-length" || got.headers["content-length"] !== undefined) {
        expect(got.headers["content-length"]).toBe(String(expected.length));
      }
    }
  });

  it("records the rewrite: upstream model, the rule, a body.model decision and the content-length rewrite", async () => {
    const before = rewriting.records.length;
    const body = '{"model":"claude-haiku-4-5","max_tokens":8}';
    await send(`${rewriting.url}/v1/messages`, { headers: { "anthropic-version": "2023-06-01" }, body });
    const [record] = (await rewriting.waitForRecords(before + 1)).slice(before);
    expect(record).toMatchObject({
      model: "claude-haiku-4-5",
      upstreamModel: "qwen3-coder:30b",
      provider: "local",
      route: "routes[0] (model claude-*haiku*)",
      rule: { rule: "routes", index: 0, conditions: { model: "claude-*haiku*" } },
    });
    expect(record!.decisions).toContainEqual({
      header: "body.model",
      action: "rewrite",
      value: "claude-haiku-4-5 → qwen3-coder:30b",
      reason: 'models["claude-*haiku*"] of local',
    });
    expect(record!.decisions).toContainEqual({
      header: "content-length",
      action: "rewrite",
      value: String(body.length - "claude-haiku-4-5".length + "qwen3-coder:30b".length),
      reason: 'body rewritten: models["claude-*haiku*"] of local',
    });
  });

  it("a provider without models (or another provider) gets the client's bytes", async () => {
    const body = '{"model":"claude-opus-4-1","max_tokens":8}';
    const before = upstream.received.length;
    await send(`${rewriting.url}/v1/messages`, { headers: { "anthropic-version": "2023-06-01" }, body });
    const got = upstream.received[before]!;
    expect(got.url).toBe("/v1/messages");
    expect(got.sha256).toBe(sha256(body));
    const [record] = rewriting.records.slice(-1);
    expect(record).toMatchObject({ provider: "anthropic", upstreamModel: "claude-opus-4-1", rule: { rule: "built-in", name: "anthropic-version header" } });
  });
});

