// Provisioning (v3): the tokens a customer's identity provider presents to keep its people in
// step over SCIM, and the base URL to paste into it. Create (the secret shown once, with a copy
// button), list (last used, expiry) and revoke (confirmed). Every action goes through submit().
import { apiBaseUrl, client, type Api } from "./api";
import { confirmDialog, formDialog, shownOnceDialog, submit, type Reload } from "./dialogs";
import { el, field } from "./dom";
import { date, moment, t, type Lang } from "./i18n";
import type { components } from "./openapi";
import { refusal } from "./refusal";

type Token = components["schemas"]["Token"];
type CreatedToken = components["schemas"]["CreatedToken"];

export interface ProvisioningPage {
  token: string;
  lang: Lang;
  nav: () => HTMLElement;
  show: (...nodes: Node[]) => void;
}

/** The day `days` after today (UTC), as the API's dates are. */
function dayFromToday(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

export async function provisioningView(p: ProvisioningPage, said = ""): Promise<void> {
  const tx = t(p.lang);
  const api = client(p.token);
  const { data, error } = await api.GET("/tokens");
  const status = el("p", { role: "status", class: "status" });
  const reload: Reload = (text) => void provisioningView(p, text);
  const heading = el("h1", {}, tx.provisioning);
  const url = `${apiBaseUrl()}/scim/v2`;
  const intro = [
    el("p", {}, tx.provisioningHelp),
    el("p", {}, `${tx.scimBaseUrl}: `, el("code", { class: "scim-url" }, url)),
  ];
  const create = el("button", { type: "button" }, tx.createToken);
  create.addEventListener("click", () => createDialog(p.lang, api, reload));
  const list = error || !data ? refusal(p.lang, error) : tokensTable(p.lang, api, data.tokens, reload);
  p.show(p.nav(), heading, ...intro, el("p", {}, create), status, list);
  if (said) window.setTimeout(() => (status.textContent = said), 50);
}

function tokenState(lang: Lang, token: Token): string {
  const tx = t(lang);
  if (token.revokedAt) return tx.tokenRevoked;
  return token.expiresAt < dayFromToday(0) ? tx.tokenExpired : tx.tokenActive;
}

function tokensTable(lang: Lang, api: Api, tokens: Token[], reload: Reload): HTMLElement {
  const tx = t(lang);
  if (!tokens.length) return el("p", {}, tx.noTokens);
  const head = [tx.tokenName, tx.tokenCreated, tx.tokenExpires, tx.tokenLastUsed, tx.status, tx.actions];
  const rows = tokens.map((token) => {
    const actions = el("td");
    if (!token.revokedAt) {
      const revoke = el("button", { type: "button", "aria-label": `${tx.revoke}: ${token.name}` }, tx.revoke);
      revoke.addEventListener("click", () => revokeDialog(lang, api, token, reload));
      actions.append(revoke);
    }
    return el(
      "tr",
      { "data-token": token.tokenId },
      el("th", { scope: "row" }, token.name),
      el("td", {}, `${moment(lang, token.createdAt)} (${token.createdBy})`),
      el("td", {}, date(lang, token.expiresAt)),
      el("td", {}, token.lastUsedAt ? moment(lang, token.lastUsedAt) : tx.neverUsed),
      el("td", {}, tokenState(lang, token)),
      actions,
    );
  });
  return el(
    "table",
    { class: "tokens" },
    el("caption", {}, tx.tokens),
    el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...rows),
  );
}

function createDialog(lang: Lang, api: Api, reload: Reload): void {
  const tx = t(lang);
  const name = el("input", { type: "text", required: "", maxlength: "100", autocomplete: "off" });
  const expires = el("input", { type: "date", required: "", min: dayFromToday(1), max: dayFromToday(365), value: dayFromToday(365) });
  let created: CreatedToken | undefined;
  formDialog({
    lang,
    title: tx.createToken,
    submitLabel: tx.create,
    fields: [field("token-name", tx.tokenName, name, tx.tokenNameHint), field("token-expires", tx.tokenExpires, expires)],
    onSubmit: ({ dialog: d, place }) =>
      void submit({
        lang,
        dialog: d,
        place,
        send: () => api.POST("/tokens", { body: { name: name.value, scopes: ["scim"], expiresAt: expires.value } }),
        said: (data) => {
          created = data;
          return tx.tokenCreatedSaid(name.value.trim());
        },
        reload: (said) => {
          if (created) {
            const shown = { title: tx.tokenShownOnce, warning: tx.tokenWarning, label: tx.tokenSecret, copyByHand: tx.copyByHand };
            shownOnceDialog(lang, "token-secret", shown, created.token, () => reload(said));
          }
        },
      }),
  });
}

function revokeDialog(lang: Lang, api: Api, token: Token, reload: Reload): void {
  const tx = t(lang);
  confirmDialog(lang, `${tx.revoke}: ${token.name}`, tx.revokeTokenConfirm(token.name), tx.revoke, (d, place) =>
    void submit({
      lang,
      dialog: d,
      place,
      send: () => api.DELETE("/tokens/{tokenId}", { params: { path: { tokenId: token.tokenId } } }),
      reload,
      said: () => tx.tokenRevokedSaid(token.name),
    }),
  );
}
