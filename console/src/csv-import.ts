// Import CSV: choose a file or paste; a dry run a moment after each change previews what the
// import would do (or names the bad rows), and Import posts the text the preview checked,
// with an Idempotency-Key. The API reads the format (infra/openapi.yaml, "CSV import"); the
// console only moves the text. In parts: reading the file, the preview, the submit.
import { slug } from "./api";
import { assignedCount, type Scope } from "./actions";
import { formDialog, livePreview, submit, type FormDialog, type Preview } from "./dialogs";
import { el, field } from "./dom";
import { period, t } from "./i18n";
import type { components } from "./openapi";
import { refusal } from "./refusal";

type AssignResult = components["schemas"]["AssignResult"];
type AssignResponse = components["schemas"]["AssignResponse"];

/** What the API takes in one request (its body limit). */
const MAX_FILE_BYTES = 256 * 1024;
/** Rows of the preview shown as a table; the count says the rest. */
const SHOWN_ROWS = 10;

/** One import dialog: its parts and what it knows of the text. */
interface Import {
  s: Scope;
  parts: FormDialog;
  text: HTMLTextAreaElement;
  /** The text whose dry run passed with something to assign: what Import may send. */
  ready: string | null;
  /** One Idempotency-Key per text: a double click or a retry of the same import is answered
   * once; a changed text (after a refusal, which the API keeps under its key) gets a new key. */
  key: string;
  keyFor: string | null;
}

/** A random version 4 UUID (getRandomValues works outside secure contexts too). */
function uuid(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The CSV to the API: a dry run, or, with a key, the import. */
function post(s: Scope, csv: string, header?: { "Idempotency-Key": string }) {
  const path = { licenseId: s.license.licenseId };
  return s.api.POST("/licenses/{licenseId}/assignments", {
    params: header ? { path, header } : { path, query: { dryRun: true } },
    body: csv,
    bodySerializer: (body) => body,
    headers: { "Content-Type": "text/csv; charset=utf-8" },
  });
}

/** Nothing may be imported until a preview of the current text has passed. */
function blocked(im: Import): void {
  im.ready = null;
  im.parts.submit.disabled = true;
}

export function importDialog(s: Scope): void {
  const tx = t(s.lang);
  const file = el("input", { type: "file", accept: ".csv,text/csv" });
  const text = el("textarea", { rows: "8", cols: "60", spellcheck: "false", class: "csv" });
  const help = el("p", { id: "import-help", class: "hint" }, tx.importHelp);
  const parts = formDialog({
    lang: s.lang,
    title: tx.importCsv,
    submitLabel: tx.importButton,
    fields: [help, field("import-file", tx.importFile, file), field("import-text", tx.importText, text, tx.importTextHint)],
    place: el("div", { role: "status", "aria-live": "polite", class: "preview" }),
    onSubmit: () => void importNow(im),
  });
  parts.dialog.setAttribute("aria-describedby", help.id);
  parts.submit.disabled = true;
  file.focus();
  const im: Import = { s, parts, text, ready: null, key: uuid(), keyFor: null };
  const live = importPreview(im);
  text.addEventListener("input", () => {
    blocked(im);
    live.soon();
  });
  readFiles(im, file, live);
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

/** A chosen file goes into the text (to be seen and corrected there) and is previewed at once. */
function readFiles(im: Import, file: HTMLInputElement, live: Preview): void {
  // Choosing the same file again (corrected in a spreadsheet) is a change too.
  file.addEventListener("click", () => {
    file.value = "";
  });
  file.addEventListener("change", () => {
    const chosen = file.files?.[0];
    if (!chosen) return;
    live.stop();
    blocked(im);
    if (chosen.size > MAX_FILE_BYTES) {
      im.parts.place.replaceChildren(el("p", { role: "alert" }, t(im.s.lang).fileTooLarge));
      return;
    }
    void chosen.arrayBuffer().then((bytes) => {
      im.text.value = decodeFile(bytes);
      return live.now();
    });
  });
}

/** The dry run of the text (a moment after each change: it counts against the assign budget
 * like an import, every row), shown in the dialog; a passing one makes the text ready. */
function importPreview(im: Import): Preview {
  const { lang } = im.s;
  const place = im.parts.place;
  let csv = "";
  return livePreview({
    dialog: im.parts.dialog,
    place,
    delay: 500,
    ask: () => {
      blocked(im);
      csv = im.text.value;
      return csv.trim() ? post(im.s, csv) : null;
    },
    show: ({ data, error, response }) => {
      if (data) showPreview(im, csv, data);
      else place.replaceChildren(refusal(lang, error, response));
    },
    fail: (e) => place.replaceChildren(refusal(lang, e)),
  });
}

function showPreview(im: Import, csv: string, data: AssignResponse): void {
  const tx = t(im.s.lang);
  const assigned = data.results.filter((r) => r.outcome === "assigned");
  const after = data.license;
  im.parts.place.replaceChildren(
    el("p", {}, tx.importPreview(assigned.length, data.results.length - assigned.length)),
    el("p", {}, tx.seatsAfter(after.assignedSeats, after.quantity, after.availableSeats)),
    ...rowsTable(im, assigned),
  );
  if (assigned.length) {
    im.ready = csv;
    im.parts.submit.disabled = false;
  } else {
    im.parts.place.append(el("p", {}, tx.nothingNew));
  }
}

/** The rows a dry run would assign, as a table (the first few). */
function rowsTable(im: Import, assigned: AssignResult[]): Node[] {
  const { lang } = im.s;
  const tx = t(lang);
  if (!assigned.length) return [];
  const rows = assigned
    .slice(0, SHOWN_ROWS)
    .map(({ assignment: a }) => el("tr", {}, el("th", { scope: "row" }, a.email), el("td", {}, period(lang, a.validFrom, a.validUntil))));
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

/** Import: the text the preview passed, under its key; the page reloads and says the result. */
async function importNow(im: Import): Promise<void> {
  const csv = im.text.value;
  if (im.ready !== csv) return;
  const tx = t(im.s.lang);
  im.parts.submit.disabled = true;
  if (im.keyFor !== null && im.keyFor !== csv) im.key = uuid();
  im.keyFor = csv;
  const outcome = await submit({
    lang: im.s.lang,
    dialog: im.parts.dialog,
    place: im.parts.place,
    send: () => post(im.s, csv, { "Idempotency-Key": im.key }),
    reload: im.s.reload,
    said: (data) => (data ? tx.importedDone(assignedCount(data.results), data.results.length - assignedCount(data.results)) : ""),
  });
  if (outcome === "done" || outcome === "busy") return;
  // Worth the same request again (the same key makes it safe): no answer at all (it may or
  // may not have arrived), limits, a request still running, the service's own failures.
  // Anything else is kept under the key: the text must change first.
  const { error, response } = outcome;
  const again = !response || response.status === 429 || response.status >= 500 || slug(error) === "idempotency-in-progress";
  if (again) im.parts.submit.disabled = false;
  else im.ready = null;
}
