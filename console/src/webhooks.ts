// Webhooks (v3): the customer's endpoints that hear of seat changes, signed to the Standard
// Webhooks specification. Add (the secret shown once), choose the event types, enable or
// disable, rotate the secret, send a test, delete; and each endpoint's delivery log with every
// attempt's result and a Retry button. Every action goes through submit().
import { client, type Api } from "./api";
import { confirmDialog, formDialog, shownOnceDialog, submit, type Reload } from "./dialogs";
import { el, field } from "./dom";
import { moment, t, type Lang } from "./i18n";
import type { components } from "./openapi";
import { refusal } from "./refusal";

type Webhook = components["schemas"]["Webhook"];
type WithSecret = components["schemas"]["WebhookWithSecret"];
type Delivery = components["schemas"]["Delivery"];
type EventType = components["schemas"]["EventType"];

/** The event types an endpoint may hear (the contract's history actions and seats.exhausted). */
const EVENT_TYPES: EventType[] = [
  "assignment.created",
  "assignment.changed",
  "assignment.revoked",
  "assignment.reclaim-warned",
  "invitation.sent",
  "invitation.failed",
  "invitation.resent",
  "invitation.accepted",
  "license.purchased",
  "license.renewed",
  "license.quantity-changed",
  "license.cancelled",
  "license.reclaim-changed",
  "license.seats-exhausted",
  "license.group-linked",
  "license.group-unlinked",
  "seats.exhausted",
];

export interface WebhooksPage {
  token: string;
  lang: Lang;
  nav: () => HTMLElement;
  show: (...nodes: Node[]) => void;
}

export async function webhooksView(p: WebhooksPage, said = ""): Promise<void> {
  const tx = t(p.lang);
  const api = client(p.token);
  const { data, error } = await api.GET("/webhooks");
  const status = el("p", { role: "status", class: "status" });
  const reload: Reload = (text) => void webhooksView(p, text);
  const heading = el("h1", {}, tx.webhooks);
  const add = el("button", { type: "button" }, tx.addWebhook);
  add.addEventListener("click", () => addDialog(p.lang, api, reload));
  const list = error || !data ? refusal(p.lang, error) : webhooksTable(p, api, data.webhooks, reload);
  p.show(p.nav(), heading, el("p", {}, tx.webhooksHelp), el("p", {}, add), status, list);
  if (said) window.setTimeout(() => (status.textContent = said), 50);
}

function stateOf(lang: Lang, w: Webhook): string {
  const tx = t(lang);
  if (w.enabled) return tx.webhookEnabled;
  const why = w.disabledReason ? tx.disabledBecause[w.disabledReason] : "";
  return why ? `${tx.webhookDisabled} (${why})` : tx.webhookDisabled;
}

function eventsOf(lang: Lang, w: Webhook): string {
  return w.events.includes("*") ? t(lang).allEvents : w.events.join(", ");
}

function webhooksTable(p: WebhooksPage, api: Api, hooks: Webhook[], reload: Reload): Node {
  const tx = t(p.lang);
  if (!hooks.length) return el("p", {}, tx.noWebhooks);
  const head = [tx.webhookUrl, tx.webhookEvents, tx.status, tx.actions];
  const rows = hooks.map((w) => {
    const name = w.description ? `${w.description} — ${w.url}` : w.url;
    const button = (label: string, act: () => void) => {
      const b = el("button", { type: "button", "aria-label": `${label}: ${name}` }, label);
      b.addEventListener("click", act);
      return b;
    };
    const toggle = w.enabled ? tx.disable : tx.enable;
    const actions = el(
      "td",
      { class: "actions" },
      button(tx.deliveryLog, () => void logView(p, api, w)),
      button(tx.sendTest, () => void sendTest(p.lang, api, w, reload, name)),
      button(toggle, () => void setEnabled(p.lang, api, w, !w.enabled, reload, name)),
      button(tx.rotateSecret, () => rotateDialog(p.lang, api, w, reload, name)),
      button(tx.delete, () => deleteDialog(p.lang, api, w, reload, name)),
    );
    return el(
      "tr",
      { "data-webhook": w.webhookId },
      el("th", { scope: "row" }, el("code", {}, w.url), w.description ? el("div", { class: "hint" }, w.description) : ""),
      el("td", {}, eventsOf(p.lang, w)),
      el("td", {}, stateOf(p.lang, w)),
      actions,
    );
  });
  return el(
    "table",
    { class: "webhooks" },
    el("caption", {}, tx.endpoints),
    el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...rows),
  );
}

/** The event types to choose from: "All events", or any of the types. */
function eventChoice(lang: Lang, chosen: string[]): { node: HTMLElement; value: () => string[] } {
  const tx = t(lang);
  const all = el("input", { type: "checkbox", id: "event-all", ...(chosen.includes("*") ? { checked: "" } : {}) });
  const boxes = EVENT_TYPES.map((type, i) => {
    const box = el("input", { type: "checkbox", id: `event-${i}`, value: type, ...(chosen.includes(type) ? { checked: "" } : {}) });
    return { box, item: el("li", {}, box, " ", el("label", { for: `event-${i}` }, el("code", {}, type))) };
  });
  const sync = () => boxes.forEach(({ box }) => (box.disabled = all.checked));
  all.addEventListener("change", sync);
  sync();
  const node = el(
    "fieldset",
    { class: "events" },
    el("legend", {}, tx.webhookEvents),
    el("p", {}, all, " ", el("label", { for: "event-all" }, tx.allEvents)),
    el("ul", {}, ...boxes.map((b) => b.item)),
  );
  const value = () => (all.checked ? ["*"] : boxes.filter((b) => b.box.checked).map((b) => b.box.value));
  return { node, value };
}

function addDialog(lang: Lang, api: Api, reload: Reload): void {
  const tx = t(lang);
  const url = el("input", { type: "url", required: "", maxlength: "2048", placeholder: "https://hooks.example.com/licensing", autocomplete: "off" });
  const description = el("input", { type: "text", maxlength: "200", autocomplete: "off" });
  const events = eventChoice(lang, ["*"]);
  let created: WithSecret | undefined;
  formDialog({
    lang,
    title: tx.addWebhook,
    submitLabel: tx.add,
    fields: [
      field("webhook-url", tx.webhookUrl, url, tx.webhookUrlHint),
      field("webhook-description", tx.webhookDescription, description),
      events.node,
    ],
    onSubmit: ({ dialog: d, place }) =>
      void submit({
        lang,
        dialog: d,
        place,
        send: () =>
          api.POST("/webhooks", {
            body: { url: url.value.trim(), events: events.value() as EventType[], description: description.value.trim() || null },
          }),
        said: (data) => {
          created = data;
          return tx.webhookAddedSaid(url.value.trim());
        },
        reload: (said) => {
          if (created) showSecret(lang, created.secret, () => reload(said));
        },
      }),
  });
}

function showSecret(lang: Lang, secret: string, closed: () => void): void {
  const tx = t(lang);
  const texts = { title: tx.webhookSecretShownOnce, warning: tx.webhookSecretWarning, label: tx.webhookSecret, copyByHand: tx.copySecretByHand };
  shownOnceDialog(lang, "webhook-secret", texts, secret, closed);
}

async function setEnabled(lang: Lang, api: Api, w: Webhook, enabled: boolean, reload: Reload, name: string): Promise<void> {
  const tx = t(lang);
  const place = document.querySelector(".status") as HTMLElement;
  await submit({
    lang,
    key: w,
    place,
    send: () => api.PATCH("/webhooks/{webhookId}", { params: { path: { webhookId: w.webhookId } }, body: { enabled } }),
    reload,
    said: () => (enabled ? tx.webhookEnabledSaid(name) : tx.webhookDisabledSaid(name)),
  });
}

async function sendTest(lang: Lang, api: Api, w: Webhook, reload: Reload, name: string): Promise<void> {
  const tx = t(lang);
  const place = document.querySelector(".status") as HTMLElement;
  await submit({
    lang,
    key: w,
    place,
    send: () => api.POST("/webhooks/{webhookId}/test", { params: { path: { webhookId: w.webhookId } } }),
    reload,
    said: () => tx.testSentSaid(name),
  });
}

function rotateDialog(lang: Lang, api: Api, w: Webhook, reload: Reload, name: string): void {
  const tx = t(lang);
  const now = el("input", { type: "checkbox" });
  let rotated: WithSecret | undefined;
  formDialog({
    lang,
    title: `${tx.rotateSecret}: ${name}`,
    submitLabel: tx.rotateSecret,
    fields: [el("p", {}, tx.rotateHelp), field("expire-old-now", tx.expireOldNow, now)],
    onSubmit: ({ dialog: d, place }) =>
      void submit({
        lang,
        dialog: d,
        place,
        send: () =>
          api.POST("/webhooks/{webhookId}/secret", {
            params: { path: { webhookId: w.webhookId } },
            body: { expireOldNow: now.checked },
          }),
        said: (data) => {
          rotated = data;
          return tx.secretRotatedSaid(name);
        },
        reload: (said) => {
          if (rotated) showSecret(lang, rotated.secret, () => reload(said));
        },
      }),
  });
}

function deleteDialog(lang: Lang, api: Api, w: Webhook, reload: Reload, name: string): void {
  const tx = t(lang);
  confirmDialog(lang, `${tx.delete}: ${name}`, tx.deleteWebhookConfirm(name), tx.delete, (d, place) =>
    void submit({
      lang,
      dialog: d,
      place,
      send: () => api.DELETE("/webhooks/{webhookId}", { params: { path: { webhookId: w.webhookId } } }),
      reload,
      said: () => tx.webhookDeletedSaid(name),
    }),
  );
}

function resultText(lang: Lang, result: Delivery["lastResult"]): string {
  const tx = t(lang);
  if (result === null || result === undefined) return "—";
  if (typeof result === "number") return `HTTP ${result}`;
  return tx.resultOf[result] ?? String(result);
}

/** An endpoint's delivery log, newest first, a page at a time, with Retry on each delivery. */
async function logView(p: WebhooksPage, api: Api, w: Webhook, said = "", cursor?: string): Promise<void> {
  const tx = t(p.lang);
  const { data, error } = await api.GET("/webhooks/{webhookId}/deliveries", {
    params: { path: { webhookId: w.webhookId }, query: { limit: 20, ...(cursor ? { cursor } : {}) } },
  });
  const status = el("p", { role: "status", class: "status" });
  const back = el("button", { type: "button" }, tx.backToWebhooks);
  back.addEventListener("click", () => void webhooksView(p));
  const heading = el("h1", {}, `${tx.deliveryLog}: ${w.url}`);
  const reload: Reload = (text) => void logView(p, api, w, text, cursor);
  let content: Node;
  if (error || !data) {
    content = refusal(p.lang, error);
  } else if (!data.deliveries.length) {
    content = el("p", {}, tx.noDeliveries);
  } else {
    const head = [tx.event, tx.status, tx.attempts, tx.lastResult, tx.nextAttempt, tx.actions];
    const rows = data.deliveries.map((d) => {
      const retry = el("button", { type: "button", "aria-label": `${tx.retry}: ${d.type} ${d.deliveryId}` }, tx.retry);
      retry.addEventListener("click", () =>
        void submit({
          lang: p.lang,
          key: d,
          place: status,
          send: () =>
            api.POST("/webhooks/{webhookId}/deliveries/{deliveryId}/retry", {
              params: { path: { webhookId: w.webhookId, deliveryId: d.deliveryId } },
            }),
          reload,
          said: () => tx.retrySaid(d.type),
        }),
      );
      const attempts = el(
        "ol",
        { class: "attempts" },
        ...d.results.map((r) => el("li", {}, `${moment(p.lang, r.at)}: ${resultText(p.lang, r.result)}`)),
      );
      return el(
        "tr",
        { "data-delivery": d.deliveryId },
        el("th", { scope: "row" }, el("code", {}, d.type), el("div", { class: "hint" }, d.eventId)),
        el("td", {}, tx.deliveryStatusOf[d.status]),
        el("td", {}, String(d.attempts), attempts),
        el("td", {}, resultText(p.lang, d.lastResult)),
        el("td", {}, d.nextAttemptAt ? moment(p.lang, d.nextAttemptAt) : "—"),
        el("td", {}, retry),
      );
    });
    const table = el(
      "table",
      { class: "deliveries" },
      el("caption", {}, tx.deliveries),
      el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, ...rows),
    );
    const more = el("p");
    if (data.nextCursor) {
      const older = el("button", { type: "button" }, tx.olderDeliveries);
      const next = data.nextCursor;
      older.addEventListener("click", () => void logView(p, api, w, "", next));
      more.append(older);
    }
    content = el("div", {}, table, more);
  }
  p.show(p.nav(), heading, el("p", {}, back), status, content);
  if (said) window.setTimeout(() => (status.textContent = said), 50);
}
