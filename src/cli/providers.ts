/**
 * `llm-relay providers [--json]` (DESIGN §2, §10): the built-in provider presets, straight from
 * the table in src/providers/presets.ts — base URL, where the key goes, the key variable, which
 * betas pass, whether count_tokens is forwarded, the models default, and the vendor page cited.
 *
 * `presetRows` is pure (the table in, plain rows out); the README's Presets table is checked
 * against the same rows by a test.
 */
import { DEFAULT_AUTH } from "../config/resolve.js";
import type { AuthPlacement, ProviderKind } from "../config/schema.js";
import { PRESET_NAMES, PRESETS, type Preset } from "../providers/presets.js";

export interface PresetRow {
  name: string;
  vendor: string;
  kind: ProviderKind;
  baseUrl: string;
  /** Where an injected key goes. */
  auth: AuthPlacement;
  /** The key variable, or null when the preset names none (the client's own credentials go). */
  keyEnv: string | null;
  /**
   * "required": unset makes the provider unavailable; "optional": used if set (local servers);
   * "not needed": a local server without keys; "client": the client's own credentials are forwarded.
   */
  key: "required" | "optional" | "not needed" | "client";
  oauth: "forward" | "strip";
  /** null: every beta passes; []: anthropic-beta is removed. */
  betasAllow: string[] | null;
  queryRemove: string[];
  countTokens: boolean;
  models: Record<string, string>;
  doc: { url: string; title: string };
  notes: string | null;
}

export function presetRows(): PresetRow[] {
  return PRESET_NAMES.map((name) => {
    const p: Preset = PRESETS[name];
    return {
      name,
      vendor: p.vendor,
      kind: p.kind,
      baseUrl: p.baseUrl,
      auth: p.auth ?? DEFAULT_AUTH[p.kind],
      keyEnv: p.keyEnv ?? null,
      key: p.keyEnv !== undefined ? (p.keyOptional ? "optional" : "required") : p.keyOptional ? "not needed" : "client",
      oauth: p.oauth ?? "strip",
      betasAllow: p.betas?.allow === undefined ? null : [...p.betas.allow],
      queryRemove: [...(p.query?.remove ?? [])],
      countTokens: p.countTokens,
      models: { ...p.models },
      doc: { ...p.doc },
      notes: p.notes ?? null,
    };
  });
}

/** The cells a person reads, shared by the terminal table and the README table. */
export function presetCells(row: PresetRow): Record<"name" | "baseUrl" | "key" | "betas" | "countTokens" | "models", string> {
  const key =
    row.keyEnv !== null
      ? `${row.keyEnv} → ${row.auth}${row.key === "optional" ? " (optional)" : ""}`
      : row.key === "not needed"
        ? "none needed"
        : "none: the client's own credentials";
  const betas = row.betasAllow === null ? "all" : row.betasAllow.length === 0 ? "none" : row.betasAllow.join(", ");
  const models = Object.entries(row.models).map(([glob, upstream]) => `${glob} → ${upstream}`).join("; ");
  return {
    name: row.oauth === "forward" ? `${row.name} (OAuth)` : row.name,
    baseUrl: row.baseUrl,
    key,
    betas: row.queryRemove.length > 0 ? `${betas}; drops ?${row.queryRemove.join(", ?")}` : betas,
    countTokens: row.countTokens ? "forwarded" : "404 from the relay",
    models: models === "" ? "—" : models,
  };
}

const HEADINGS = { name: "preset", baseUrl: "base URL", key: "key variable → header", betas: "anthropic-beta", countTokens: "count_tokens", models: "models default" };

export function formatPresets(rows: readonly PresetRow[]): string {
  const cells = [HEADINGS, ...rows.map(presetCells)];
  const columns = Object.keys(HEADINGS) as Array<keyof typeof HEADINGS>;
  const widths = columns.map((c) => Math.max(...cells.map((row) => row[c].length)));
  const lines = cells.map((row) => columns.map((c, i) => (i === columns.length - 1 ? row[c] : row[c].padEnd(widths[i]!))).join("  "));
  return [
    ...lines,
    "",
    "Use one:  providers: { ds: { preset: \"deepseek\" } }  (fields written next to it win; llm-relay init --with deepseek,ollama)",
    "A hosted preset whose key variable is unset is unavailable (503); the others keep working. Sources: llm-relay providers --json",
  ].join("\n");
}

/** The README's Presets table (between its `presets:start`/`presets:end` markers), from the same rows. */
export function presetsMarkdown(rows: readonly PresetRow[]): string {
  const columns = Object.keys(HEADINGS) as Array<keyof typeof HEADINGS>;
  const cell = (text: string) => text.replace(/\|/g, "\\|");
  const code = (text: string) => (text === "—" ? text : `\`${text}\``);
  const lines = [
    `| ${columns.map((c) => HEADINGS[c]).join(" | ")} | source |`,
    `| ${columns.map(() => "---").join(" | ")} | --- |`,
    ...rows.map((row) => {
      const c = presetCells(row);
      return `| ${[code(row.name) + (row.oauth === "forward" ? " (OAuth)" : ""), code(c.baseUrl), c.key, c.betas, c.countTokens, code(c.models)].map(cell).join(" | ")} | [${cell(row.doc.title)}](${row.doc.url}) |`;
    }),
  ];
  return lines.join("\n");
}

export interface ProvidersFlags {
  json?: boolean;
}

export async function runProviders(flags: ProvidersFlags): Promise<number> {
  const rows = presetRows();
  process.stdout.write(flags.json ? `${JSON.stringify(rows, null, 2)}\n` : `${formatPresets(rows)}\n`);
  return 0;
}
