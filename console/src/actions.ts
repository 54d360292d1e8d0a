// What User Management does to a licence's assignments: Assign User (with a live dryRun
// preview), Change, Revoke (confirmed) and Resend invitation. Each goes through submit():
// a refusal is shown where the person is, a success closes the dialog and reloads the page.
import { problemText, type Api, type License } from "./api";
import { confirmDialog, formDialog, livePreview, submit, type Reload } from "./dialogs";
import { el, field } from "./dom";
import { t, type Lang } from "./i18n";
import type { components } from "./openapi";
import { refusal } from "./refusal";

type Assignment = components["schemas"]["Assignment"];
type AssignResult = components["schemas"]["AssignResult"];

/** What the actions on one licence's page share. */
export interface Scope {
  lang: Lang;
  license: License;
  api: Api;
  reload: Reload;
  /** The page's live region (Resend answers there). */
  status: HTMLElement;
}

function dateInput(value: string, min: string, max: string): HTMLInputElement {
  return el("input", { type: "date", value, min, max, required: "" });
}

/** How many of a request's addresses get (or would get) a seat. */
export function assignedCount(results: AssignResult[]): number {
  return results.filter((r) => r.outcome === "assigned").length;
}

export function assignDialog(s: Scope): void {
  const { lang, license, api } = s;
  const tx = t(lang);
  const today = new Date().toISOString().slice(0, 10);
  const emails = el("textarea", { rows: "5", cols: "50", required: "" });
  const from = dateInput(today > license.term.start ? today : license.term.start, license.term.start, license.term.end);
  const until = dateInput(license.term.end, license.term.start, license.term.end);
  const language = el("select", {}, el("option", { value: "en" }, "English"), el("option", { value: "de" }, "Deutsch"));
  language.value = lang;
  const post = (dryRun: boolean) =>
    api.POST("/licenses/{licenseId}/assignments", {
      params: { path: { licenseId: license.licenseId } },
      body: { emails: emails.value, validFrom: from.value, validUntil: until.value, language: language.value === "de" ? "de" : "en", dryRun },
    });
  const preview = el("div", { role: "status", "aria-live": "polite", class: "preview" });
  const fields = [
    field("assign-emails", tx.emails, emails, tx.emailsHint),
    field("assign-from", tx.validFrom, from),
    field("assign-until", tx.validUntil, until),
    field("assign-language", tx.mailLanguage, language),
  ];
  const { dialog } = formDialog({
    lang,
    title: tx.assignUser,
    submitLabel: tx.assign,
    fields,
    place: preview,
    onSubmit: ({ dialog: d }) => {
      live.stop();
      const said = (data?: { results: AssignResult[] }) => tx.assignedDone(data ? assignedCount(data.results) : 0);
      void submit({ lang, dialog: d, place: preview, send: () => post(false), reload: s.reload, said });
    },
  });
  emails.focus();
  // A dry run a moment after the last change: it counts against the assign budget like a
  // real request, so not on every key.
  const live = livePreview({
    dialog,
    place: preview,
    delay: 400,
    ask: () => (emails.value.trim() ? post(true) : null),
    show: ({ data, error, response }) => {
      const seats = data ? assignedCount(data.results) : 0;
      preview.replaceChildren(data ? el("p", {}, tx.preview(seats, data.results.length - seats)) : refusal(lang, error, response));
    },
    fail: (e) => preview.replaceChildren(refusal(lang, e)),
  });
  for (const input of [emails, from, until]) input.addEventListener("input", live.soon);
}

export function changeDialog(s: Scope, a: Assignment): void {
  const { lang, license, api } = s;
  const tx = t(lang);
  const from = dateInput(a.validFrom, license.term.start, license.term.end);
  const until = dateInput(a.validUntil, license.term.start, license.term.end);
  const path = { licenseId: license.licenseId, email: a.email };
  formDialog({
    lang,
    title: `${tx.change}: ${a.email}`,
    submitLabel: tx.save,
    fields: [field("change-from", tx.validFrom, from), field("change-until", tx.validUntil, until)],
    onSubmit: ({ dialog, place }) => {
      const body = { validFrom: from.value, validUntil: until.value };
      void submit({ lang, dialog, place, reload: s.reload, send: () => api.PATCH("/licenses/{licenseId}/assignments/{email}", { params: { path }, body }) });
    },
  });
}

export function revokeDialog(s: Scope, a: Assignment): void {
  const { lang, license, api } = s;
  const tx = t(lang);
  const path = { licenseId: license.licenseId, email: a.email };
  confirmDialog(lang, tx.revoke, tx.revokeConfirm(a.email), tx.revoke, (dialog, place) => {
    void submit({ lang, dialog, place, reload: s.reload, send: () => api.DELETE("/licenses/{licenseId}/assignments/{email}", { params: { path } }) });
  });
}

/** Resend invitation, in place: the page's status line says what came of it. */
export function resend(s: Scope, a: Assignment, button: HTMLButtonElement): void {
  const { lang, license, api } = s;
  const tx = t(lang);
  const path = { licenseId: license.licenseId, email: a.email };
  void submit({
    lang,
    key: button,
    place: s.status,
    send: () => api.POST("/licenses/{licenseId}/assignments/{email}/invitation", { params: { path } }),
    reload: s.reload,
    said: () => tx.resent(a.email),
    explain: ({ error, response }) =>
      response?.status === 429
        ? tx.rateLimited(Number(response.headers.get("retry-after") ?? "600"))
        : `${tx.error} ${problemText(error)}`,
  });
}

/** Exempt from reclaim, in place: a checkbox whose change PATCHes the assignment; the page's
 * status line says what came of it. */
export function exemptToggle(s: Scope, a: Assignment): HTMLInputElement {
  const { lang, license, api } = s;
  const tx = t(lang);
  const path = { licenseId: license.licenseId, email: a.email };
  const box = el("input", { type: "checkbox", "aria-label": tx.exemptOf(a.email) });
  box.checked = a.reclaimExempt;
  box.addEventListener("change", () => {
    const on = box.checked;
    void submit({
      lang,
      key: box,
      place: s.status,
      send: () => api.PATCH("/licenses/{licenseId}/assignments/{email}", { params: { path }, body: { reclaimExempt: on } }),
      reload: s.reload,
      said: () => tx.exempted(a.email, on),
    });
  });
  return box;
}
