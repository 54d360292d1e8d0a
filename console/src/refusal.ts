// What a refusal of the API says, in place and in the person's language: never the raw
// problem document.
import { problemText, slug } from "./api";
import { el } from "./dom";
import { t, type Lang } from "./i18n";

interface FieldError {
  field: string;
  message: string;
}

interface ProblemFields {
  errors?: FieldError[];
  invalidEmails?: string[];
  requested?: number;
  available?: number;
}

/** Where an error is: `row 7: validUntil` (a CSV import names the row a spreadsheet shows)
 * becomes "Row 7: validUntil"; a form's own field its label. */
export function place(lang: Lang, field: string): string {
  const tx = t(lang);
  const row = /^row (\d+)(?:: (.+))?$/.exec(field);
  if (row) {
    return `${tx.row} ${row[1]}${row[2] ? `: ${row[2]}` : ""}`;
  }
  const labels: Record<string, string> = { emails: tx.emails, validFrom: tx.validFrom, validUntil: tx.validUntil };
  return labels[field] ?? field;
}

/** Invalid entries (with their rows, from an import), validation errors as a list, missing
 * seats, the assign budget's wait, or the problem's own text. `response` gives Retry-After. */
export function refusal(lang: Lang, error: unknown, response?: Response): Node {
  const tx = t(lang);
  const p = (error && typeof error === "object" ? error : {}) as ProblemFields;
  if (slug(error) === "rate-limited" || response?.status === 429) {
    const wait = Number(response?.headers.get("retry-after") ?? "") || 60;
    return el("p", { role: "alert" }, tx.tooMany(wait));
  }
  if (Array.isArray(p.invalidEmails)) {
    const rows = p.errors ?? [];
    const items = p.invalidEmails.map((entry, i) => {
      const row = rows[i];
      return el("li", {}, ...(row ? [`${place(lang, row.field)}: `] : []), el("code", {}, entry));
    });
    return el("div", { role: "alert" }, tx.invalidEmails, el("ul", {}, ...items));
  }
  if (p.requested !== undefined && p.available !== undefined) {
    return el("p", { role: "alert" }, tx.insufficient(p.requested, p.available));
  }
  if (Array.isArray(p.errors) && p.errors.length) {
    const items = p.errors.map((e) => el("li", {}, `${place(lang, e.field)} — ${e.message}`));
    return el("div", { role: "alert" }, tx.correct, el("ul", { class: "errors" }, ...items));
  }
  return el("p", { role: "alert" }, `${tx.error} ${problemText(error)}`);
}
