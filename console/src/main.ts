// Manage Your Licenses: sign-in and the licence overview. Plain DOM, no framework: the
// page is a handful of views, and every text node is set with textContent (never HTML).
import { client, isAdmin, problemText, setApiBase, type License, type MyLicense } from "./api";
import { loadConfig, oidcSession, type OidcSession } from "./auth";
import { el } from "./dom";
import { number, period, t, type Lang } from "./i18n";
import { date } from "./locale";
import { provisioningView } from "./tokens";
import { usersView } from "./users";
import { webhooksView } from "./webhooks";
import "./style.css";

interface Identity {
  id: string;
  label: string;
  token: string;
}

type Filter = "" | "active" | "upcoming" | "expired" | "all";
type Screen = "licenses" | "access" | "users" | "provisioning" | "webhooks";

const state = {
  lang: (localStorage.getItem("lang") === "de" ? "de" : "en") as Lang,
  token: sessionStorage.getItem("token"),
  filter: "" as Filter,
  screen: "licenses" as Screen,
  /** The licence whose users are managed (screen "users"). */
  license: null as License | null,
};

/** The deployed sign-in (config.json with an issuer), or null for the local demo identities. */
let oidc: OidcSession | null = null;

const main = document.getElementById("main") as HTMLElement;
const langSelect = document.getElementById("lang") as HTMLSelectElement;
const signOut = document.getElementById("sign-out") as HTMLButtonElement;

function show(...nodes: Node[]): void {
  main.replaceChildren(...nodes);
  main.focus();
}

/** The sections a signed-in person may open: admins both, users their own access. */
function navigation(token: string): HTMLElement {
  const tx = t(state.lang);
  const screens: [Screen, string][] = isAdmin(token)
    ? [["licenses", tx.myLicenses], ["provisioning", tx.provisioning], ["webhooks", tx.webhooks], ["access", tx.myAccess]]
    : [["access", tx.myAccess]];
  const nav = el("nav", { "aria-label": tx.nav });
  for (const [screen, label] of screens) {
    const current = state.screen === screen;
    const button = el("button", { type: "button", ...(current ? { "aria-current": "page" } : {}) }, label);
    button.addEventListener("click", () => {
      state.screen = screen;
      void render();
    });
    nav.append(button);
  }
  return nav;
}

async function accessView(token: string): Promise<void> {
  const tx = t(state.lang);
  const { data, error } = await client(token).GET("/me/licenses");
  const heading = el("h1", {}, tx.myAccess);
  if (error || !data) {
    show(navigation(token), heading, el("p", { role: "alert" }, `${tx.error} ${problemText(error)}`));
    return;
  }
  const item = (m: MyLicense) =>
    el(
      "li",
      { "data-license": m.licenseId },
      el("strong", {}, m.productName),
      ` — ${tx.accessPeriod}: ${period(state.lang, m.validFrom, m.validUntil)} — ${tx.lastUsed}: `,
      m.lastActiveOn ? date(state.lang, m.lastActiveOn) : tx.never,
    );
  const content = data.licenses.length ? el("ul", { class: "access" }, ...data.licenses.map(item)) : el("p", {}, tx.accessNone);
  show(navigation(token), heading, content);
}

function chrome(): void {
  const tx = t(state.lang);
  document.documentElement.lang = state.lang;
  document.title = tx.title;
  (document.getElementById("brand") as HTMLElement).textContent = tx.title;
  (document.getElementById("lang-label") as HTMLElement).textContent = tx.language;
  langSelect.value = state.lang;
  signOut.textContent = tx.signOut;
  signOut.hidden = !state.token;
}

/** Deployed: one button to the issuer's sign-in (it comes back with a code, see auth.ts). */
function oidcSignInView(session: OidcSession): void {
  const tx = t(state.lang);
  const button = el("button", { type: "button" }, tx.signInButton);
  button.addEventListener("click", () => {
    button.disabled = true;
    session.signIn().catch((e: unknown) => {
      button.disabled = false;
      session.failure = e instanceof Error ? e.message : String(e);
      oidcSignInView(session);
    });
  });
  const failed = session.failure ? [el("p", { role: "alert" }, `${tx.signInFailed} ${session.failure}`)] : [];
  show(el("h1", {}, tx.signIn), el("p", {}, tx.signInOidc), ...failed, el("p", {}, button));
}

/** Locally, the demo identities of `make dev` (identities.json next to the page). */
async function signInView(): Promise<void> {
  const tx = t(state.lang);
  if (oidc) {
    oidcSignInView(oidc);
    return;
  }
  const answer = await fetch("identities.json");
  const identities: Identity[] = answer.ok ? await answer.json() : [];
  const list = el("ul", { class: "identities" });
  for (const identity of identities) {
    const button = el("button", { type: "button" }, identity.label);
    button.addEventListener("click", () => {
      state.token = identity.token;
      sessionStorage.setItem("token", identity.token);
      void render();
    });
    list.append(el("li", {}, button));
  }
  show(el("h1", {}, tx.signIn), el("p", {}, tx.signInLocal), list);
}

/** A cell's figure for the term in force today and, once a renewal is bought, the next term's below it. */
function withNext(current: string, next: string | null): (Node | string)[] {
  return next === null ? [current] : [current, el("span", { class: "next" }, t(state.lang).inNextTerm(next))];
}

function licenceRow(l: License): HTMLTableRowElement {
  const tx = t(state.lang);
  const lang = state.lang;
  const next = l.nextTerm ?? null;
  const subscription = `${l.subscription.id} (${l.subscription.plan}${l.subscription.autoRenew ? `, ${tx.autoRenew}` : ""})`;
  const status = tx[l.status] + (l.cancelled ? `, ${tx.cancelled}` : "");
  const manage = el("button", { type: "button", class: "link" }, l.productName);
  manage.addEventListener("click", () => {
    state.screen = "users";
    state.license = l;
    void render();
  });
  const product = el("th", { scope: "row" }, manage);
  const row = el(
    "tr",
    { "data-license": l.licenseId },
    product,
    el("td", {}, ...withNext(period(lang, l.currentTerm.start, l.currentTerm.end), next && period(lang, next.start, next.end))),
    el("td", {}, subscription),
    el("td", {}, ...withNext(l.invoiceNumber, next && next.invoiceNumber)),
    el("td", { class: "num" }, ...withNext(number(lang, l.quantity), next && number(lang, next.quantity))),
    el("td", { class: "num" }, number(lang, l.assignedSeats)),
    el("td", { class: "num" }, number(lang, l.availableSeats)),
    el("td", {}, status),
  );
  if (l.overAssignedSeats > 0) {
    row.classList.add("over");
    product.append(el("p", { class: "warning", role: "note" }, `⚠ ${tx.overAssigned(l.overAssignedSeats)}`));
  }
  return row;
}

async function licencesView(token: string): Promise<void> {
  const tx = t(state.lang);
  const api = client(token);
  const { data, error } = await api.GET("/licenses", {
    params: { query: { status: state.filter } },
  });
  const filter = el("select", { id: "status-filter" });
  for (const [value, label] of [
    ["", `${tx.active} + ${tx.upcoming}`],
    ["active", tx.active],
    ["upcoming", tx.upcoming],
    ["expired", tx.expired],
    ["all", tx.all],
  ] as const) {
    filter.append(el("option", { value }, label));
  }
  filter.value = state.filter;
  filter.addEventListener("change", () => {
    state.filter = filter.value as Filter;
    void render();
  });
  const controls = el("p", {}, el("label", { for: "status-filter" }, `${tx.status} `), filter);
  if (error || !data) {
    show(navigation(token), el("h1", {}, tx.myLicenses), controls, el("p", { role: "alert" }, `${tx.error} ${problemText(error)}`));
    return;
  }
  const head = el(
    "tr",
    {},
    ...[tx.product, tx.term, tx.subscription, tx.invoice, tx.quantity, tx.assigned, tx.free, tx.status].map((h) =>
      el("th", { scope: "col" }, h),
    ),
  );
  const body = el("tbody", {}, ...data.licenses.map(licenceRow));
  const table = el("table", { class: "licenses" }, el("caption", {}, tx.myLicenses), el("thead", {}, head), body);
  const content = data.licenses.length ? table : el("p", {}, tx.none);
  show(navigation(token), el("h1", {}, tx.myLicenses), controls, content);
}

async function render(): Promise<void> {
  if (oidc) {
    // An ID token that has expired since the last screen signs the person out here.
    state.token = await oidc.current();
  }
  chrome();
  if (state.token) {
    if (!isAdmin(state.token)) {
      state.screen = "access";
    }
    const token = state.token;
    if (state.screen === "users" && state.license) {
      const back = () => {
        state.screen = "licenses";
        void render();
      };
      await usersView({ token, lang: state.lang, license: state.license, show, back });
    } else if (state.screen === "provisioning") {
      await provisioningView({ token, lang: state.lang, nav: () => navigation(token), show });
    } else if (state.screen === "webhooks") {
      await webhooksView({ token, lang: state.lang, nav: () => navigation(token), show });
    } else {
      await (state.screen === "access" ? accessView(token) : licencesView(token));
    }
  } else {
    await signInView();
  }
}

langSelect.addEventListener("change", () => {
  state.lang = langSelect.value === "de" ? "de" : "en";
  localStorage.setItem("lang", state.lang);
  void render();
});
signOut.addEventListener("click", () => {
  state.token = null;
  state.screen = "licenses";
  sessionStorage.removeItem("token");
  void (oidc ? oidc.signOut() : Promise.resolve()).finally(() => render());
});

/** config.json first: where the API is, and which sign-in. */
async function start(): Promise<void> {
  const config = await loadConfig();
  if (config.apiUrl) setApiBase(config.apiUrl);
  if (config.oidc) {
    oidc = await oidcSession(config.oidc);
    sessionStorage.removeItem("token");
  }
  await render();
}

void start();
