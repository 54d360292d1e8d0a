// CSV on User Management: Export CSV (every assignment of the licence as one file) and
// Import CSV (a dialog with a live dryRun preview that names each bad row, then the import).
// The API reads and writes the format (infra/openapi.yaml, "CSV export" and "CSV import");
// the console only moves the text.
import { slug, type Api, type License } from "./api";
import { date, t, type Lang } from "./i18n";
import { dialog, el, field } from "./dom";
import { refusal } from "./refusal";
import type { components } from "./openapi";

type AssignResult = components["schemas"]["AssignResult"];

/** What the API takes in one request (its body limit). */
const MAX_FILE_BYTES = 256 * 1024;
/** Rows of the preview shown as a table; the count says the rest. */
const SHOWN_ROWS = 10;

/** `<product>-users-<YYYY-MM-DD>.csv` (today, the person's own date), or the licence id
 * where the product's name leaves nothing to name a file by. */
export function fileName(license: License, now = new Date()): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const day = `${now.getFullYear()}-${two(now.getMonth() + 1)}-${two(now.getDate())}`;
  const stem = license.productName.replace(/[^\p{L}\p{N}]+/gu, "-").replace(/^-+|-+$/g, "");
  return `${stem || license.licenseId}-users-${day}.csv`;
}

/** Export CSV: the licence's assignments as a download. The browser asks for gzip itself and
 * fetch decodes it; a refusal (e.g. 406 export-too-large) is shown in `place`. */
export async function exportCsv(lang: Lang, api: Api, license: License, place: HTMLElement, status: HTMLElement): Promise<void> {
  const tx = t(lang);
  place.replaceChildren();
  try {
    const { data, error, response } = await api.GET("/licenses/{licenseId}/assignments", {
      params: { path: { licenseId: license.licenseId } },
      headers: { Accept: "text/csv" },
      parseAs: "blob",
    });
    if (!data) {
      place.replaceChildren(refusal(lang, error, response));
      return;
    }
    const name = fileName(license);
    const url = URL.createObjectURL(data);
    const link = el("a", { href: url, download: name, hidden: "" });
    document.body.append(link);
    link.click();
    link.remove();
    // The download has taken the file by the time the next task runs.
    window.setTimeout(() => URL.revokeObjectURL(url), 1000);
    status.textContent = tx.exported(name);
  } catch (e) {
    place.replaceChildren(refusal(lang, e instanceof Error ? e.message : e));
  }
}

/** A random version 4 UUID (getRandomValues works outside secure contexts too). */
function uuid(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A chosen file's text: UTF-8 (Excel's "CSV UTF-8" starts with a byte order mark, which
 * the decoder drops as the API would), else Windows-1252, what Excel's plain "CSV" writes
 * (the API reads UTF-8 only, so the console sends it on as UTF-8). */
function decodeFile(bytes: ArrayBuffer): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder("windows-1252").decode(bytes);
  }
}

/** The rows a dry run would assign, as a table (the first few). */
function rowsTable(lang: Lang, assigned: AssignResult[]): Node[] {
  const tx = t(lang);
  if (!assigned.length) return [];
  const rows = assigned.slice(0, SHOWN_ROWS).map(({ assignment: a }) =>
    el("tr", {}, el("th", { scope: "row" }, a.email), el("td", {}, `${date(lang, a.validFrom)} – ${date(lang, a.validUntil)}`)),
  );
  const table = el(
    "table",
    { class: "import-rows" },
    el("caption", {}, tx.toAssign),
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, tx.email), el("th", { scope: "col" }, tx.period))),
    el("tbody", {}, ...rows),
  );
  const more = assigned.length - SHOWN_ROWS;
  return more > 0 ? [table, el("p", {}, tx.andMore(more))] : [table];
}

/** Import CSV: choose a file or paste; a dry run a moment after each change previews what the
 * import would do (or names the bad rows), and Import posts the same text for real. `done`
 * refreshes User Management and announces the result. */
export function importDialog(lang: Lang, api: Api, license: License, done: (said: string) => void): void {
  const tx = t(lang);
  const file = el("input", { type: "file", accept: ".csv,text/csv" });
  const text = el("textarea", { rows: "8", cols: "60", spellcheck: "false", class: "csv" });
  const preview = el("div", { role: "status", "aria-live": "polite", class: "preview" });
  const submit = el("button", { type: "submit", disabled: "" }, tx.importButton);
  const cancel = el("button", { type: "button" }, tx.cancel);
  const help = el("p", { id: "import-help", class: "hint" }, tx.importHelp);
  const form = el(
    "form",
    {},
    help,
    field("import-file", tx.importFile, file),
    field("import-text", tx.importText, text, tx.importTextHint),
    preview,
    submit,
    cancel,
  );
  const d = dialog(tx.importCsv, form);
  d.setAttribute("aria-describedby", help.id);
  file.focus();
  cancel.addEventListener("click", () => d.close());

  const path = { licenseId: license.licenseId };
  const post = (csv: string, header?: { "Idempotency-Key": string }) =>
    api.POST("/licenses/{licenseId}/assignments", {
      params: header ? { path, header } : { path, query: { dryRun: true } },
      body: csv,
      bodySerializer: (body) => body,
      headers: { "Content-Type": "text/csv; charset=utf-8" },
    });

  // One Idempotency-Key per text: a double click or a retry of the same import is answered
  // once; a changed text (after a refusal, which the API keeps under its key) gets a new key.
  let key = uuid();
  let keyFor: string | null = null;
  /** The text whose dry run passed with something to assign: what Import may send. */
  let ready: string | null = null;
  let asked = 0;
  let importing = false;
  let timer: number | undefined;
  d.addEventListener("close", () => window.clearTimeout(timer));

  const check = async (): Promise<void> => {
    window.clearTimeout(timer);
    const csv = text.value;
    const mine = ++asked;
    ready = null;
    submit.disabled = true;
    if (!csv.trim()) {
      preview.replaceChildren();
      return;
    }
    preview.setAttribute("aria-busy", "true");
    try {
      const { data, error, response } = await post(csv);
      if (mine !== asked) return;
      if (!data) {
        preview.replaceChildren(refusal(lang, error, response));
        return;
      }
      const assigned = data.results.filter((r) => r.outcome === "assigned");
      const after = data.license;
      preview.replaceChildren(
        el("p", {}, tx.importPreview(assigned.length, data.results.length - assigned.length)),
        el("p", {}, tx.seatsAfter(after.assignedSeats, after.quantity, after.availableSeats)),
        ...rowsTable(lang, assigned),
      );
      if (assigned.length) {
        ready = csv;
        submit.disabled = false;
      } else {
        preview.append(el("p", {}, tx.nothingNew));
      }
    } catch (e) {
      if (mine === asked) preview.replaceChildren(refusal(lang, e instanceof Error ? e.message : e));
    } finally {
      if (mine === asked) preview.removeAttribute("aria-busy");
    }
  };
  // A dry run counts against the assign budget like an import (every row), so not on every key.
  const checkSoon = () => {
    ready = null;
    submit.disabled = true;
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void check(), 500);
  };
  text.addEventListener("input", checkSoon);
  // Choosing the same file again (corrected in a spreadsheet) is a change too.
  file.addEventListener("click", () => {
    file.value = "";
  });
  file.addEventListener("change", () => {
    const chosen = file.files?.[0];
    if (!chosen) return;
    if (chosen.size > MAX_FILE_BYTES) {
      asked++;
      ready = null;
      submit.disabled = true;
      preview.replaceChildren(el("p", { role: "alert" }, tx.fileTooLarge));
      return;
    }
    void chosen.arrayBuffer().then((bytes) => {
      text.value = decodeFile(bytes);
      return check();
    });
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const csv = text.value;
    if (importing || ready !== csv) return;
    importing = true;
    submit.disabled = true;
    if (keyFor !== null && keyFor !== csv) key = uuid();
    keyFor = csv;
    void (async () => {
      try {
        const { data, error, response } = await post(csv, { "Idempotency-Key": key });
        if (data) {
          const assigned = data.results.filter((r) => r.outcome === "assigned").length;
          d.close();
          done(tx.importedDone(assigned, data.results.length - assigned));
          return;
        }
        preview.replaceChildren(refusal(lang, error, response));
        // Not kept under the key, so worth the same request again: limits, a request still
        // running, and the service's own failures.
        const again = response.status === 429 || response.status >= 500 || slug(error) === "idempotency-in-progress";
        if (again) submit.disabled = false;
        else ready = null;
      } catch (e) {
        // The request may or may not have arrived: the same key makes a retry safe.
        preview.replaceChildren(refusal(lang, e instanceof Error ? e.message : e));
        submit.disabled = false;
      } finally {
        importing = false;
      }
    })();
  });
}
