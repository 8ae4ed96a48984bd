/**
 * Provider presets (DESIGN §10): one table of data, applied by the config resolver. A provider
 * written `{ preset: "deepseek" }` gets the fields of that entry; fields written next to it win.
 * No preset logic lives anywhere else: the relay only sees the resolved provider.
 *
 * Each entry cites the vendor document it follows. Where that document says nothing about a
 * fact the relay needs (which `anthropic-beta` values it accepts, whether `count_tokens`
 * exists), the entry takes the safe value — no betas, no count_tokens — and says so in `notes`.
 * Claude Code sends `POST /v1/messages?beta=true`. Servers that implement Messages themselves get
 * `query.remove: ["beta"]`: the parameter means nothing to them and a strict one may refuse an
 * unknown parameter. Gateways documented for Claude Code as it is (OpenRouter, Vercel) keep it.
 */
import type { AuthPlacement, ProviderKind } from "../config/schema.js";

export interface Preset {
  /** What `llm-relay providers` prints as the vendor. */
  vendor: string;
  /** The vendor document this entry follows. */
  doc: { url: string; title: string };
  kind: ProviderKind;
  baseUrl: string;
  /** Where the injected key goes; the kind's default when absent. */
  auth?: AuthPlacement;
  /** The environment variable the vendor documents for its key. */
  keyEnv?: string;
  /**
   * Local servers need no key: the provider works without one, and uses the variable if it is
   * set. Hosted presets leave this false: their unset key makes the provider unavailable (§3).
   */
  keyOptional?: boolean;
  oauth?: "forward" | "strip";
  /** `allow` undefined: every value passes; `[]`: the header is removed. */
  betas?: { allow?: readonly string[]; remove?: readonly string[] };
  query?: { remove?: readonly string[] };
  /** False: the vendor has no `/v1/messages/count_tokens`; the relay answers 404 itself. */
  countTokens: boolean;
  /** A `models` default the vendor documents (glob → upstream name, first match wins). */
  models?: Readonly<Record<string, string>>;
  /** What the entry could not verify in the vendor's document, and the safe value it chose. */
  notes?: string;
}

export const PRESETS = {
  // Anthropic, "API overview" (docs.anthropic.com/en/api/overview). The official origin: the
  // client's own credentials (a Claude subscription, an Anthropic key) are forwarded, so no key is
  // named (one would replace them); every beta passes; count_tokens exists.
  anthropic: {
    vendor: "Anthropic",
    doc: { url: "https://docs.anthropic.com/en/api/overview", title: "Anthropic API overview" },
    kind: "anthropic",
    baseUrl: "https://api.anthropic.com",
    oauth: "forward",
    countTokens: true,
  },
  // OpenAI, "API reference: Authentication". The client's own OpenAI key goes to its vendor (§5),
  // so no key is named. count_tokens is an Anthropic endpoint OpenAI does not have.
  openai: {
    vendor: "OpenAI",
    doc: { url: "https://platform.openai.com/docs/api-reference/authentication", title: "OpenAI API reference: Authentication" },
    kind: "openai",
    baseUrl: "https://api.openai.com",
    countTokens: false,
  },
  // DeepSeek, "Anthropic API": base URL, `x-api-key: Fully Supported`, `anthropic-beta: Ignored`
  // for /messages; its compatibility table lists no count_tokens. It maps claude-* model names
  // itself (claude-opus* → deepseek-v4-pro, others → deepseek-flash), so no models default.
  deepseek: {
    vendor: "DeepSeek",
    doc: { url: "https://api-docs.deepseek.com/guides/anthropic_api", title: "DeepSeek API Docs: Anthropic API" },
    kind: "anthropic",
    baseUrl: "https://api.deepseek.com/anthropic",
    keyEnv: "DEEPSEEK_API_KEY",
    betas: { allow: [] },
    query: { remove: ["beta"] },
    countTokens: false,
  },
  // Moonshot AI (Kimi), "Use Kimi in Claude Code / agents". Read only through pages quoting it:
  // base URL https://api.moonshot.ai/anthropic with the key as ANTHROPIC_AUTH_TOKEN (Bearer).
  moonshot: {
    vendor: "Moonshot AI (Kimi)",
    doc: { url: "https://platform.moonshot.ai/docs/guide/agent-support", title: "Kimi API Platform: Using Kimi in Claude Code and other agents" },
    kind: "anthropic",
    baseUrl: "https://api.moonshot.ai/anthropic",
    keyEnv: "MOONSHOT_API_KEY",
    auth: "bearer",
    betas: { allow: [] },
    query: { remove: ["beta"] },
    countTokens: false,
    notes: "vendor page not read directly (base URL and Bearer auth from pages quoting it); no betas and no count_tokens documented",
  },
  // Z.ai, "GLM Coding Plan: Claude Code": base URL https://api.z.ai/api/anthropic, the key as
  // ANTHROPIC_AUTH_TOKEN (Bearer); it maps Claude model names to GLM models itself.
  zai: {
    vendor: "Z.ai (GLM)",
    doc: { url: "https://docs.z.ai/devpack/tool/claude", title: "Z.ai GLM Coding Plan: Claude Code" },
    kind: "anthropic",
    baseUrl: "https://api.z.ai/api/anthropic",
    keyEnv: "ZAI_API_KEY",
    auth: "bearer",
    betas: { allow: [] },
    query: { remove: ["beta"] },
    countTokens: false,
    notes: "the page names no key variable (ZAI_API_KEY is ours); no betas and no count_tokens documented",
  },
  // OpenRouter, "Claude Code integration": ANTHROPIC_BASE_URL=https://openrouter.ai/api,
  // ANTHROPIC_AUTH_TOKEN=$OPENROUTER_API_KEY (Bearer). A gateway Claude Code talks to as is, so
  // `?beta=true` stays.
  openrouter: {
    vendor: "OpenRouter",
    doc: { url: "https://openrouter.ai/docs/guides/guides/claude-code-integration", title: "OpenRouter: Claude Code integration" },
    kind: "anthropic",
    baseUrl: "https://openrouter.ai/api",
    keyEnv: "OPENROUTER_API_KEY",
    auth: "bearer",
    betas: { allow: [] },
    countTokens: false,
    notes: "no betas and no count_tokens documented",
  },
  // Ollama ≥ 0.14, "Anthropic compatibility": base URL without /v1; "API key is accepted but not
  // validated" locally (OLLAMA_API_KEY is for ollama.com, not a local server); endpoints: only
  // /v1/messages. Claude model names need `ollama cp` or a `models` map.
  ollama: {
    vendor: "Ollama",
    doc: { url: "https://docs.ollama.com/api/anthropic-compatibility", title: "Ollama: Anthropic compatibility" },
    kind: "anthropic",
    baseUrl: "http://127.0.0.1:11434",
    keyOptional: true,
    betas: { allow: [] },
    query: { remove: ["beta"] },
    countTokens: false,
  },
  // LM Studio, "Anthropic-compatible endpoints": only POST /v1/messages; with "Require
  // Authentication" on, the LM_API_TOKEN key as x-api-key or Bearer.
  lmstudio: {
    vendor: "LM Studio",
    doc: { url: "https://lmstudio.ai/docs/developer/anthropic-compat", title: "LM Studio: Anthropic Compatible Endpoints" },
    kind: "anthropic",
    baseUrl: "http://127.0.0.1:1234",
    keyEnv: "LM_API_TOKEN",
    keyOptional: true,
    betas: { allow: [] },
    query: { remove: ["beta"] },
    countTokens: false,
  },
  // vLLM, "OpenAI-Compatible Server" (`vllm serve`, --api-key / VLLM_API_KEY checked as Bearer).
  // Its /v1/messages lives in vllm/entrypoints/anthropic; we found no page documenting it or
  // count_tokens.
  vllm: {
    vendor: "vLLM",
    doc: { url: "https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html", title: "vLLM: OpenAI-Compatible Server" },
    kind: "anthropic",
    baseUrl: "http://127.0.0.1:8000",
    keyEnv: "VLLM_API_KEY",
    keyOptional: true,
    auth: "bearer",
    betas: { allow: [] },
    query: { remove: ["beta"] },
    countTokens: false,
    notes: "Anthropic endpoint seen in vLLM's source, not in a doc page; count_tokens unverified",
  },
  // llama.cpp, server README "Anthropic-compatible API Endpoints": POST /v1/messages and
  // POST /v1/messages/count_tokens; --api-key (env LLAMA_API_KEY), sent as x-api-key in its example.
  llamacpp: {
    vendor: "llama.cpp server",
    doc: { url: "https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md", title: "llama.cpp: LLaMA.cpp HTTP Server" },
    kind: "anthropic",
    baseUrl: "http://127.0.0.1:8080",
    keyEnv: "LLAMA_API_KEY",
    keyOptional: true,
    betas: { allow: [] },
    query: { remove: ["beta"] },
    countTokens: true,
  },
  // Alibaba Cloud Model Studio, "Claude Code" (international, Singapore): base URL, the key as
  // ANTHROPIC_API_KEY (x-api-key), ANTHROPIC_MODEL=qwen3-coder-plus.
  qwen: {
    vendor: "Alibaba Cloud Model Studio (Qwen)",
    doc: { url: "https://www.alibabacloud.com/help/en/model-studio/claude-code", title: "Alibaba Cloud Model Studio: Claude Code" },
    kind: "anthropic",
    baseUrl: "https://dashscope-intl.aliyuncs.com/apps/anthropic",
    keyEnv: "DASHSCOPE_API_KEY",
    betas: { allow: [] },
    query: { remove: ["beta"] },
    countTokens: false,
    models: { "*": "qwen3-coder-plus" },
    notes: "no betas and no count_tokens documented",
  },
  // MiniMax, "Compatible Anthropic API": base URL (international), the key as ANTHROPIC_API_KEY
  // (x-api-key); the endpoint serves MiniMax-M2.x models only.
  minimax: {
    vendor: "MiniMax",
    doc: { url: "https://platform.minimax.io/docs/api-reference/text-anthropic-api", title: "MiniMax: Compatible Anthropic API" },
    kind: "anthropic",
    baseUrl: "https://api.minimax.io/anthropic",
    keyEnv: "MINIMAX_API_KEY",
    betas: { allow: [] },
    query: { remove: ["beta"] },
    countTokens: false,
    models: { "*": "MiniMax-M2" },
    notes: "the page names no key variable (MINIMAX_API_KEY is ours); no betas and no count_tokens documented",
  },
  // Vercel AI Gateway, "Anthropic-Compatible API" and "Claude Code": base URL, the key as
  // x-api-key or Bearer (Claude Code: ANTHROPIC_AUTH_TOKEN); one endpoint, /v1/messages. A
  // gateway Claude Code talks to as is, so `?beta=true` stays.
  vercel: {
    vendor: "Vercel AI Gateway",
    doc: { url: "https://vercel.com/docs/ai-gateway/anthropic-compat", title: "Vercel AI Gateway: Anthropic-Compatible API" },
    kind: "anthropic",
    baseUrl: "https://ai-gateway.vercel.sh",
    keyEnv: "AI_GATEWAY_API_KEY",
    auth: "bearer",
    betas: { allow: [] },
    countTokens: false,
    notes: "no betas documented",
  },
} as const satisfies Record<string, Preset>;

export type PresetName = keyof typeof PRESETS;

export const PRESET_NAMES = Object.keys(PRESETS) as [PresetName, ...PresetName[]];

export function presetFor(name: string): Preset | undefined {
  return Object.hasOwn(PRESETS, name) ? (PRESETS as Record<string, Preset>)[name] : undefined;
}
