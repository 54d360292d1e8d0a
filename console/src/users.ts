// User Management of one licence: its assignments (paged), Assign User with a live dryRun
// preview, Export CSV and Import CSV (csv.ts), Change, Revoke (confirmed), Resend invitation,
// and the licence's latest history.
import { client, problemText, type Api, type License } from "./api";
import { usageChart } from "./chart";
import { exportCsv, importDialog } from "./csv";
import { dialog, el, field } from "./dom";
import type { components } from "./openapi";
import { date, t, type Lang } from "./i18n";
import { refusal } from "./refusal";

type Assignment = components["schemas"]["Assignment"];

export interface Context {
  token: string;
  lang: Lang;
  license: License;
  show: (...nodes: Node[]) => void;
  back: () => void;
}

/** Shows User Management again (the same page); `said` is announced once it is shown. */
type Reload = (said?: string) => void;

function dateInput(value: string, min: string, max: string): HTMLInputElement {
  return el("input", { type: "date", value, min, max, required: "" });
}

export async function usersView(ctx: Context, cursors: (string | null)[] = [null], said = ""): Promise<void> {
  const { lang, license } = ctx;
  const tx = t(lang);
  const api = client(ctx.token);
  const cursor = cursors[cursors.length - 1] ?? null;
  const query = cursor ? { limit: 20, cursor } : { limit: 20 };
  const path = { licenseId: license.licenseId };
  const [page, history, usage] = await Promise.all([
    api.GET("/licenses/{licenseId}/assignments", { params: { path, query } }),
    api.GET("/licenses/{licenseId}/history", { params: { path, query: { limit: 10 } } }),
    api.GET("/licenses/{licenseId}/usage", { params: { path } }),
  ]);
  const status = el("p", { role: "status", class: "status" });
  const reload: Reload = (text) => void usersView(ctx, cursors, text);
  const back = el("button", { type: "button" }, `← ${tx.back}`);
  back.addEventListener("click", ctx.back);
  const assign = el("button", { type: "button" }, tx.assignUser);
  assign.addEventListener("click", () => assignDialog(ctx, api, reload));
  const exported = el("div", { class: "notice" });
  const exportButton = el("button", { type: "button" }, tx.exportCsv);
  exportButton.addEventListener("click", () => {
    exportButton.disabled = true;
    void exportCsv(lang, api, license, exported, status).finally(() => {
      exportButton.disabled = false;
    });
  });
  const importButton = el("button", { type: "button" }, tx.importCsv);
  importButton.addEventListener("click", () => importDialog(lang, api, license, reload));
  const heading = el("h1", {}, tx.manage(license.productName));
  if (page.error || !page.data) {
    ctx.show(back, heading, refusal(lang, page.error));
    return;
  }
  const rows = page.data.assignments.map((a) => assignmentRow(ctx, api, a, status, reload));
  const table = el(
    "table",
    { class: "assignments" },
    el("caption", {}, tx.manage(license.productName)),
    el("thead", {}, el("tr", {}, ...[tx.email, tx.period, tx.status, tx.invitation, tx.actions].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...rows),
  );
  const paging = el("p", { class: "paging" });
  if (cursors.length > 1) {
    const prev = el("button", { type: "button" }, tx.previous);
    prev.addEventListener("click", () => void usersView(ctx, cursors.slice(0, -1)));
    paging.append(prev);
  }
  const next = page.data.nextCursor;
  if (next) {
    const more = el("button", { type: "button" }, tx.next);
    more.addEventListener("click", () => void usersView(ctx, [...cursors, next]));
    paging.append(more);
  }
  const when = new Intl.DateTimeFormat(lang === "de" ? "de-DE" : "en-GB", { dateStyle: "medium", timeStyle: "short" });
  const entries = (history.data?.entries ?? []).map((e) =>
    el("li", {}, `${when.format(new Date(e.at))} · ${e.actor} · ${e.action}${e.email ? ` · ${e.email}` : ""}`),
  );
  ctx.show(
    back,
    heading,
    el("p", { class: "toolbar" }, assign, exportButton, importButton),
    exported,
    status,
    rows.length ? table : el("p", {}, tx.noAssignments),
    paging,
    usage.data ? usageChart(lang, usage.data.steps, new Date().toISOString().slice(0, 10)) : refusal(lang, usage.error),
    el("h2", {}, tx.history),
    el("ol", { class: "history" }, ...entries),
  );
  // Set once the live region is on the page, so that it is announced.
  if (said) window.setTimeout(() => (status.textContent = said), 50);
}

function assignmentRow(ctx: Context, api: Api, a: Assignment, status: HTMLElement, reload: Reload): HTMLTableRowElement {
  const { lang, license } = ctx;
  const tx = t(lang);
  const actions = el("td", { class: "actions" });
  const path = { licenseId: license.licenseId, email: a.email };
  if (a.status !== "revoked" && a.status !== "expired") {
    const change = el("button", { type: "button", "aria-label": `${tx.change}: ${a.email}` }, tx.change);
    change.addEventListener("click", () => {
      const from = dateInput(a.validFrom, license.term.start, license.term.end);
      const until = dateInput(a.validUntil, license.term.start, license.term.end);
      const result = el("div");
      const save = el("button", { type: "submit" }, tx.save);
      const cancel = el("button", { type: "button" }, tx.cancel);
      const form = el("form", {}, field("change-from", tx.validFrom, from), field("change-until", tx.validUntil, until), result, save, cancel);
      const d = dialog(`${tx.change}: ${a.email}`, form);
      cancel.addEventListener("click", () => d.close());
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        void (async () => {
          const { error } = await api.PATCH("/licenses/{licenseId}/assignments/{email}", {
            params: { path },
            body: { validFrom: from.value, validUntil: until.value },
          });
          if (error) {
            result.replaceChildren(refusal(lang, error));
          } else {
            d.close();
            reload();
          }
        })();
      });
    });
    const revoke = el("button", { type: "button", "aria-label": `${tx.revoke}: ${a.email}` }, tx.revoke);
    revoke.addEventListener("click", () => {
      const yes = el("button", { type: "button" }, tx.revoke);
      const no = el("button", { type: "button" }, tx.cancel);
      const result = el("div");
      const d = dialog(tx.revoke, el("p", {}, tx.revokeConfirm(a.email)), result, yes, no);
      no.focus();
      no.addEventListener("click", () => d.close());
      yes.addEventListener("click", () => {
        void (async () => {
          const { error } = await api.DELETE("/licenses/{licenseId}/assignments/{email}", { params: { path } });
          if (error) {
            result.replaceChildren(refusal(lang, error));
          } else {
            d.close();
            reload();
          }
        })();
      });
    });
    const resend = el("button", { type: "button", "aria-label": `${tx.resend}: ${a.email}` }, tx.resend);
    resend.addEventListener("click", () => {
      void (async () => {
        const { error, response } = await api.POST("/licenses/{licenseId}/assignments/{email}/invitation", { params: { path } });
        if (response.status === 429) {
          status.textContent = tx.rateLimited(Number(response.headers.get("retry-after") ?? "600"));
        } else if (error) {
          status.textContent = `${tx.error} ${problemText(error)}`;
        } else {
          status.textContent = tx.resent(a.email);
        }
      })();
    });
    actions.append(change, revoke, resend);
  }
  return el(
    "tr",
    { "data-email": a.email },
    el("th", { scope: "row" }, a.email),
    el("td", {}, `${date(lang, a.validFrom)} – ${date(lang, a.validUntil)}`),
    el("td", {}, tx.statusOf[a.status]),
    el("td", {}, tx.invitationOf[a.invitation.status]),
    actions,
  );
}

function assignDialog(ctx: Context, api: Api, reload: Reload): void {
  const { lang, license } = ctx;
  const tx = t(lang);
  const today = new Date().toISOString().slice(0, 10);
  const start = today > license.term.start ? today : license.term.start;
  const emails = el("textarea", { rows: "5", cols: "50", required: "" });
  const from = dateInput(start, license.term.start, license.term.end);
  const until = dateInput(license.term.end, license.term.start, license.term.end);
  const language = el("select", {}, el("option", { value: "en" }, "English"), el("option", { value: "de" }, "Deutsch"));
  language.value = lang;
  const preview = el("div", { role: "status", "aria-live": "polite", class: "preview" });
  const submit = el("button", { type: "submit" }, tx.assign);
  const cancel = el("button", { type: "button" }, tx.cancel);
  const form = el(
    "form",
    {},
    field("assign-emails", tx.emails, emails, tx.emailsHint),
    field("assign-from", tx.validFrom, from),
    field("assign-until", tx.validUntil, until),
    field("assign-language", tx.mailLanguage, language),
    preview,
    submit,
    cancel,
  );
  const d = dialog(tx.assignUser, form);
  emails.focus();
  cancel.addEventListener("click", () => d.close());
  const body = (dryRun: boolean) => ({
    emails: emails.value,
    validFrom: from.value,
    validUntil: until.value,
    language: language.value === "de" ? ("de" as const) : ("en" as const),
    dryRun,
  });
  const path = { licenseId: license.licenseId };
  // The live preview: a dry run a moment after the last keystroke (it counts against the
  // assign budget like a real request, so not on every key).
  let timer: number | undefined;
  const previewSoon = () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => {
      if (!emails.value.trim()) {
        preview.replaceChildren();
        return;
      }
      void (async () => {
        const { data, error, response } = await api.POST("/licenses/{licenseId}/assignments", { params: { path }, body: body(true) });
        if (data) {
          const seats = data.results.filter((r) => r.outcome === "assigned").length;
          preview.replaceChildren(el("p", {}, tx.preview(seats, data.results.length - seats)));
        } else {
          preview.replaceChildren(refusal(lang, error, response));
        }
      })();
    }, 400);
  };
  for (const input of [emails, from, until]) {
    input.addEventListener("input", previewSoon);
  }
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    void (async () => {
      const { data, error, response } = await api.POST("/licenses/{licenseId}/assignments", { params: { path }, body: body(false) });
      if (data) {
        d.close();
        reload(tx.assignedDone(data.results.filter((r) => r.outcome === "assigned").length));
      } else {
        preview.replaceChildren(refusal(lang, error, response));
      }
    })();
  });
}
