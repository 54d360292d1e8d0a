// Reclaim idle seats (v3): a licence's rule for seats nobody uses, its bounds explained, and
// what the daily run would do today under the rule in force (who would be warned, whose seat
// would be freed), read from the API's preview, which writes nothing.
import { formDialog, submit } from "./dialogs";
import { el, field } from "./dom";
import { t } from "./i18n";
import { date } from "./locale";
import type { Scope } from "./actions";
import type { components } from "./openapi";
import { refusal } from "./refusal";

type ReclaimPreview = components["schemas"]["ReclaimPreview"];

function numberInput(value: number, min: number, max: number): HTMLInputElement {
  return el("input", { type: "number", value: String(value), min: String(min), max: String(max), step: "1", required: "" });
}

export function reclaimDialog(s: Scope): void {
  const { lang, license, api } = s;
  const tx = t(lang);
  const policy = license.reclaim;
  const enabled = el("input", { type: "checkbox" });
  enabled.checked = policy.enabled;
  const inactive = numberInput(policy.inactiveDays ?? 60, 14, 365);
  const grace = numberInput(policy.graceDays ?? 14, 1, 60);
  const sync = () => {
    inactive.disabled = !enabled.checked;
    grace.disabled = !enabled.checked;
  };
  enabled.addEventListener("change", sync);
  sync();
  const path = { licenseId: license.licenseId };
  const preview = el("section", { class: "preview", "aria-labelledby": "reclaim-preview" }, el("h3", { id: "reclaim-preview" }, tx.reclaimToday));
  const answers = el("div", { role: "status", "aria-live": "polite" });
  const fields = [
    el("p", { class: "hint" }, tx.reclaimRule),
    field("reclaim-enabled", tx.reclaimEnabled, enabled),
    field("reclaim-inactive", tx.inactiveDays, inactive, tx.inactiveHint),
    field("reclaim-grace", tx.graceDays, grace, tx.graceHint),
    preview,
  ];
  formDialog({
    lang,
    title: tx.reclaim,
    submitLabel: tx.save,
    fields,
    place: answers,
    onSubmit: ({ dialog }) => {
      const body = enabled.checked
        ? { enabled: true, inactiveDays: Number(inactive.value), graceDays: Number(grace.value) }
        : { enabled: false };
      void submit({
        lang,
        dialog,
        place: answers,
        reload: s.reload,
        send: async () => {
          const answer = await api.PUT("/licenses/{licenseId}/reclaim", { params: { path }, body });
          // The page shows this licence again: with the rule just saved.
          if (answer.data) Object.assign(license, answer.data);
          return answer;
        },
        said: () => (enabled.checked ? tx.reclaimOn(Number(inactive.value), Number(grace.value)) : tx.reclaimOff),
      });
    },
  });
  preview.setAttribute("aria-busy", "true");
  void api
    .GET("/licenses/{licenseId}/reclaim/preview", { params: { path } })
    .then(({ data, error, response }) => {
      preview.append(data ? previewList(s, data, policy.enabled) : refusal(lang, error, response));
    })
    .catch((e: unknown) => preview.append(refusal(lang, e)))
    .finally(() => preview.removeAttribute("aria-busy"));
}

/** Who today's run would warn and whose seat it would free, each with the last day of use. */
function previewList(s: Scope, p: ReclaimPreview, on: boolean): Node {
  const tx = t(s.lang);
  if (!on) return el("p", {}, tx.reclaimIsOff);
  const used = (day: string | null) => (day ? date(s.lang, day) : tx.never);
  const list = (heading: string, rows: { email: string; lastActiveOn: string | null }[]) =>
    el(
      "div",
      {},
      el("h4", {}, `${heading} (${rows.length})`),
      rows.length
        ? el("ul", {}, ...rows.map((r) => el("li", {}, `${r.email} — ${tx.lastActive}: ${used(r.lastActiveOn)}`)))
        : el("p", {}, tx.nobody),
    );
  return el("div", {}, list(tx.wouldWarn, p.warn), list(tx.wouldFree, p.revoke));
}
