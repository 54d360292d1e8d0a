// User Management of one licence: its assignments (paged; a seat a group's rule gave says
// so), the actions on them (actions.ts), Export CSV and Import CSV (csv.ts, csv-import.ts),
// its linked groups and waiting list (groups.ts), the seat usage chart and the latest
// history in words (history.ts).
import { client, type License } from "./api";
import { assignDialog, changeDialog, exemptToggle, resend, revokeDialog, type Scope } from "./actions";
import { usageChart } from "./chart";
import { exportCsv } from "./csv";
import { assignedByText, groupsSection, linkedGroups, type GroupNames } from "./groups";
import { importDialog } from "./csv-import";
import { reclaimDialog } from "./reclaim";
import { el } from "./dom";
import { historyList } from "./history";
import { period, t, type Lang } from "./i18n";
import { date } from "./locale";
import type { components } from "./openapi";
import { refusal } from "./refusal";

type Assignment = components["schemas"]["Assignment"];
type AssignmentPage = components["schemas"]["AssignmentPage"];

export interface Context {
  token: string;
  lang: Lang;
  license: License;
  show: (...nodes: Node[]) => void;
  back: () => void;
}

function button(label: string, onClick: (b: HTMLButtonElement) => void, name?: string): HTMLButtonElement {
  const b = el("button", { type: "button", ...(name ? { "aria-label": name } : {}) }, label);
  b.addEventListener("click", () => onClick(b));
  return b;
}

export async function usersView(ctx: Context, cursors: (string | null)[] = [null], said = ""): Promise<void> {
  const { lang, license } = ctx;
  const tx = t(lang);
  const api = client(ctx.token);
  const cursor = cursors[cursors.length - 1] ?? null;
  const path = { licenseId: license.licenseId };
  const [page, history, usage, linked] = await Promise.all([
    api.GET("/licenses/{licenseId}/assignments", { params: { path, query: cursor ? { limit: 20, cursor } : { limit: 20 } } }),
    api.GET("/licenses/{licenseId}/history", { params: { path, query: { limit: 10 } } }),
    api.GET("/licenses/{licenseId}/usage", { params: { path } }),
    linkedGroups({ api, license }),
  ]);
  const status = el("p", { role: "status", class: "status" });
  const scope: Scope = { lang, license, api, status, reload: (text) => void usersView(ctx, cursors, text) };
  const back = button(`← ${tx.back}`, ctx.back);
  const heading = el("h1", {}, tx.manage(license.productName));
  if (page.error || !page.data) {
    ctx.show(back, heading, refusal(lang, page.error));
    return;
  }
  const exported = el("div", { class: "notice" });
  const names: GroupNames = new Map(linked.map((g) => [g.groupId, g.displayName]));
  const groups = await groupsSection(scope, linked);
  ctx.show(
    back,
    heading,
    toolbar(scope, exported),
    exported,
    status,
    assignmentsTable(scope, page.data, names),
    paging(ctx, cursors, page.data.nextCursor),
    groups,
    usage.data ? usageChart(lang, usage.data.steps, new Date().toISOString().slice(0, 10)) : refusal(lang, usage.error),
    el("h2", {}, tx.history),
    historyList(lang, history.data?.entries ?? []),
  );
  // Set once the live region is on the page, so that it is announced.
  if (said) window.setTimeout(() => (status.textContent = said), 50);
}

/** Assign User, Export CSV, Import CSV, Reclaim idle seats. */
function toolbar(s: Scope, exported: HTMLElement): HTMLElement {
  const tx = t(s.lang);
  const exportButton = button(tx.exportCsv, (b) => {
    b.disabled = true;
    void exportCsv(s.lang, s.api, s.license, exported, s.status).finally(() => {
      b.disabled = false;
    });
  });
  return el(
    "p",
    { class: "toolbar" },
    button(tx.assignUser, () => assignDialog(s)),
    exportButton,
    button(tx.importCsv, () => importDialog(s)),
    button(tx.reclaim, () => reclaimDialog(s)),
  );
}

function assignmentsTable(s: Scope, page: AssignmentPage, names: GroupNames): HTMLElement {
  const tx = t(s.lang);
  if (!page.assignments.length) return el("p", {}, tx.noAssignments);
  const head = [tx.email, tx.period, tx.status, tx.invitation, tx.lastActive, tx.exempt, tx.actions].map((h) =>
    el("th", { scope: "col" }, h),
  );
  return el(
    "table",
    { class: "assignments" },
    el("caption", {}, tx.manage(s.license.productName)),
    el("thead", {}, el("tr", {}, ...head)),
    el("tbody", {}, ...page.assignments.map((a) => assignmentRow(s, a, names))),
  );
}

function assignmentRow(s: Scope, a: Assignment, names: GroupNames): HTMLTableRowElement {
  const tx = t(s.lang);
  const actions = el("td", { class: "actions" });
  const exempt = el("td", { class: "exempt" });
  if (a.status !== "revoked" && a.status !== "expired") {
    exempt.append(exemptToggle(s, a));
    actions.append(
      button(tx.change, () => changeDialog(s, a), `${tx.change}: ${a.email}`),
      button(tx.revoke, () => revokeDialog(s, a), `${tx.revoke}: ${a.email}`),
      button(tx.resend, (b) => resend(s, a, b), `${tx.resend}: ${a.email}`),
    );
  }
  const byRule = assignedByText(s, a.assignedBy, names);
  return el(
    "tr",
    { "data-email": a.email },
    el("th", { scope: "row" }, a.email, ...(byRule ? [el("span", { class: "by-rule" }, byRule)] : [])),
    el("td", {}, period(s.lang, a.validFrom, a.validUntil)),
    el("td", {}, tx.statusOf[a.status]),
    el("td", {}, tx.invitationOf[a.invitation.status]),
    el("td", {}, a.lastActiveOn ? date(s.lang, a.lastActiveOn) : tx.never),
    exempt,
    actions,
  );
}

/** Previous and Next page (the cursors of the pages seen so far). */
function paging(ctx: Context, cursors: (string | null)[], next: string | null | undefined): HTMLElement {
  const tx = t(ctx.lang);
  const nav = el("p", { class: "paging" });
  if (cursors.length > 1) nav.append(button(tx.previous, () => void usersView(ctx, cursors.slice(0, -1))));
  if (next) nav.append(button(tx.next, () => void usersView(ctx, [...cursors, next])));
  return nav;
}
