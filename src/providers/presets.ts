/**
 * Provider presets (DESIGN §10): one table of data, applied by the config resolver. A provider
 * written `{ preset: "deepseek" }` gets the fields of that entry; fields written next to it win.
 * No preset logic lives anywhere else: the relay only sees the resolved provider.
 *
 * Each entry cites the vendor document it follows. Where that document says nothing about a
 * fact the relay needs (which `anthropic-beta` values it accepts, whether `count_tokens`
 * exists), the entry takes the safe value — no betas, no count_tokens — and says so in `notes`.
 * Claude Code sends `POST /v1/messages?beta=true`; a vendor not known to accept the query gets
 * `query.remove: ["beta"]` (a dropped `?beta=true` changes nothing at Anthropic-compatible servers,
 * which take their betas from the header).
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
  anthropic: {
    vendor: "Anthropic",
    doc: { url: "https://docs.anthropic.com/en/api/overview", title: "Anthropic API overview" },
    kind: "anthropic",
    baseUrl: "https://api.anthropic.com",
    // The client's own credentials (a Claude subscription, an Anthropic key) are forwarded; a
    // preset key would replace them, so none is named. Every beta passes, count_tokens exists.
    oauth: "forward",
    countTokens: true,
  },
  openai: {
    vendor: "OpenAI",
    doc: { url: "https://platform.openai.com/docs/api-reference/authentication", title: "OpenAI API reference: Authentication" },
    kind: "openai",
    baseUrl: "https://api.openai.com",
    // The client's own OpenAI key is forwarded to its vendor; a preset key would replace it.
    countTokens: false,
    notes: "OpenAI speaks its own API; count_tokens is an Anthropic endpoint.",
  },
  deepseek: {
    vendor: "DeepSeek",
    doc: { url: "https://api-docs.deepseek.com/guides/anthropic_api", title: "DeepSeek API Docs: Anthropic API" },
    kind: "anthropic",
    baseUrl: "https://api.deepseek.com/anthropic",
    keyEnv: "DEEPSEEK_API_KEY",
    // "anthropic-beta: Ignored" in its compatibility table: nothing to pass.
    betas: { allow: [] },
    query: { remove: ["beta"] },
    countTokens: false,
    notes: "count_tokens is not in its compatibility table: not forwarded.",
  },
  moonshot: {
    vendor: "Moonshot AI (Kimi)",
    doc: { url: "https://platform.moonshot.ai/docs/guide/agent-support", title: "Kimi API Platform: Using Kimi K2 in Claude Code and other agents" },
    kind: "anthropic",
    baseUrl: "https://api.moonshot.ai/anthropic",
    keyEnv: "MOONSHOT_API_KEY",
    auth: "bearer",
    betas: { allow: [] },
    query: { remove: ["beta"] },
    countTokens: false,
    notes: "documents no anthropic-beta values and no count_tokens: none passed, count_tokens answered 404.",
  },
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
    notes: "documents no anthropic-beta values and no count_tokens: none passed, count_tokens answered 404.",
  },
  openrouter: {
    vendor: "OpenRouter",
    doc: { url: "https://openrouter.ai/docs/guides/guides/claude-code-integration", title: "OpenRouter: Claude Code integration" },
    kind: "anthropic",
    baseUrl: "https://openrouter.ai/api",
    keyEnv: "OPENROUTER_API_KEY",
    auth: "bearer",
    betas: { allow: [] },
    countTokens: false,
    notes: "documents no anthropic-beta values and no count_tokens: none passed, count_tokens answered 404.",
  },
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
  lmstudio: {
    vendor: "LM Studio",
    doc: { url: "https://lmstudio.ai/docs/developer/anthropic-compat", title: "LM Studio: Anthropic-compatible endpoints" },
    kind: "anthropic",
    baseUrl: "http://127.0.0.1:1234",
    keyOptional: true,
    betas: { allow: [] },
    query: { remove: ["beta"] },
    countTokens: false,
  },
  vllm: {
    vendor: "vLLM",
    doc: { url: "https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html", title: "vLLM: OpenAI-Compatible Server" },
    kind: "anthropic",
    baseUrl: "http://127.0.0.1:8000",
    keyOptional: true,
    betas: { allow: [] },
    query: { remove: ["beta"] },
    countTokens: false,
  },
  llamacpp: {
    vendor: "llama.cpp server",
    doc: { url: "https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md", title: "llama.cpp: LLaMA.cpp HTTP Server" },
    kind: "anthropic",
    baseUrl: "http://127.0.0.1:8080",
    keyOptional: true,
    betas: { allow: [] },
    query: { remove: ["beta"] },
    countTokens: false,
  },
  qwen: {
    vendor: "Alibaba Cloud Model Studio (Qwen)",
    doc: { url: "https://www.alibabacloud.com/help/en/model-studio/claude-code", title: "Alibaba Cloud Model Studio: Claude Code" },
    kind: "anthropic",
    baseUrl: "https://dashscope-intl.aliyuncs.com/apps/anthropic",
    keyEnv: "DASHSCOPE_API_KEY",
    betas: { allow: [] },
    query: { remove: ["beta"] },
    countTokens: false,
  },
  minimax: {
    vendor: "MiniMax",
    doc: { url: "https://platform.minimax.io/docs/guides/text-ai-coding-tools", title: "MiniMax: AI coding tools (Claude Code)" },
    kind: "anthropic",
    baseUrl: "https://api.minimax.io/anthropic",
    keyEnv: "MINIMAX_API_KEY",
    auth: "bearer",
    betas: { allow: [] },
    query: { remove: ["beta"] },
    countTokens: false,
  },
  vercel: {
    vendor: "Vercel AI Gateway",
    doc: { url: "https://vercel.com/docs/ai-gateway/anthropic-compat", title: "Vercel AI Gateway: Anthropic-compatible API" },
    kind: "anthropic",
    baseUrl: "https://ai-gateway.vercel.sh",
    keyEnv: "AI_GATEWAY_API_KEY",
    auth: "bearer",
    betas: { allow: [] },
    query: { remove: ["beta"] },
    countTokens: false,
  },
} as const satisfies Record<string, Preset>;

export type PresetName = keyof typeof PRESETS;

export const PRESET_NAMES = Object.keys(PRESETS) as [PresetName, ...PresetName[]];

export function presetFor(name: string): Preset | undefined {
  return Object.hasOwn(PRESETS, name) ? (PRESETS as Record<string, Preset>)[name] : undefined;
}
