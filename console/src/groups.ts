// Groups of User Management (v3): the identity provider's groups linked to this licence, each
// with its members, the seats its rule gave and the people waiting; a group picker to link
// another (with its invitations' language); Unlink, confirmed; and the waiting list in order.
// Members of a linked group get seats on their own (the group rule); who does not fit waits.
import { confirmDialog, submit } from "./dialogs";
import { el, field } from "./dom";
import { count, number, t } from "./i18n";
import { moment } from "./locale";
import type { Scope } from "./actions";
import type { components } from "./openapi";
import { refusal } from "./refusal";

type Linked = components["schemas"]["LinkedGroupList"]["groups"][number];
type Group = components["schemas"]["GroupList"]["groups"][number];
type Waiter = components["schemas"]["WaitingList"]["waiting"][number];

/** The group's name, by id, for the assignments a rule made ("assignedBy: group:<id>"). */
export type GroupNames = Map<string, string>;

/** The linked groups' names, read with the page's other data. */
export async function linkedGroups(s: Pick<Scope, "api" | "license">): Promise<Linked[]> {
  const path = { licenseId: s.license.licenseId };
  const { data } = await s.api.GET("/licenses/{licenseId}/groups", { params: { path } });
  return data?.groups ?? [];
}

/** Who gave an assignment, in words: a group's rule by the group's name. */
export function assignedByText(s: Scope, assignedBy: string, names: GroupNames): string | null {
  if (!assignedBy.startsWith("group:")) return null;
  const id = assignedBy.slice("group:".length);
  return t(s.lang).byGroup(names.get(id) ?? id);
}

export async function groupsSection(s: Scope, linked: Linked[]): Promise<HTMLElement> {
  const { lang, license, api } = s;
  const tx = t(lang);
  const path = { licenseId: license.licenseId };
  const section = el("section", { class: "groups", "aria-labelledby": "groups-heading" }, el("h2", { id: "groups-heading" }, tx.groups));
  section.append(el("p", { class: "hint" }, tx.groupsRule));
  const [all, waiting] = await Promise.all([
    api.GET("/groups"),
    api.GET("/licenses/{licenseId}/waiting", { params: { path } }),
  ]);
  section.append(linkedTable(s, linked), linkForm(s, all.data?.groups ?? [], linked));
  if (all.error) section.append(refusal(lang, all.error, all.response));
  const names: GroupNames = new Map(linked.map((g) => [g.groupId, g.displayName]));
  section.append(el("h3", { id: "waiting-heading" }, tx.waitingList));
  section.append(waiting.data ? waitingList(s, waiting.data.waiting, names) : refusal(lang, waiting.error, waiting.response));
  return section;
}

function linkedTable(s: Scope, linked: Linked[]): HTMLElement {
  const tx = t(s.lang);
  if (!linked.length) return el("p", {}, tx.noLinkedGroups);
  const head = [tx.group, tx.members, tx.assigned, tx.waiting, tx.mailLanguage, tx.actions].map((h) => el("th", { scope: "col" }, h));
  const rows = linked.map((g) => {
    const unlink = el("button", { type: "button", "aria-label": `${tx.unlink}: ${g.displayName}` }, tx.unlink);
    unlink.addEventListener("click", () => unlinkDialog(s, g));
    return el(
      "tr",
      { "data-group": g.groupId },
      el("th", { scope: "row" }, g.displayName),
      el("td", { class: "num" }, number(s.lang, g.members)),
      el("td", { class: "num" }, number(s.lang, g.assigned)),
      el("td", { class: "num" }, number(s.lang, g.waiting)),
      el("td", {}, g.language === "de" ? "Deutsch" : "English"),
      el("td", { class: "actions" }, unlink),
    );
  });
  return el(
    "table",
    { class: "linked-groups" },
    el("caption", {}, tx.linkedGroups),
    el("thead", {}, el("tr", {}, ...head)),
    el("tbody", {}, ...rows),
  );
}

/** The group picker: the directory's groups not linked yet, and the invitations' language. */
function linkForm(s: Scope, groups: Group[], linked: Linked[]): HTMLElement {
  const { lang, license, api } = s;
  const tx = t(lang);
  const open = groups.filter((g) => !linked.some((l) => l.groupId === g.groupId));
  if (!open.length) return el("p", {}, tx.noGroupsToLink);
  const picker = el("select", { required: "" }, ...open.map((g) => el("option", { value: g.groupId }, `${g.displayName} (${count(lang, g.members, tx.memberWords)})`)));
  const language = el("select", {}, el("option", { value: "en" }, "English"), el("option", { value: "de" }, "Deutsch"));
  language.value = lang;
  const place = el("div", { role: "status", "aria-live": "polite" });
  const button = el("button", { type: "submit" }, tx.linkGroup);
  const form = el(
    "form",
    { class: "link-group" },
    field("link-group", tx.group, picker),
    field("link-language", tx.mailLanguage, language),
    el("p", {}, button),
    place,
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const groupId = picker.value;
    const name = open.find((g) => g.groupId === groupId)?.displayName ?? groupId;
    void submit({
      lang,
      key: form,
      place,
      reload: s.reload,
      send: () =>
        api.PUT("/licenses/{licenseId}/groups/{groupId}", {
          params: { path: { licenseId: license.licenseId, groupId } },
          body: { language: language.value === "de" ? "de" : "en" },
        }),
      said: (data) => {
        const g = data?.groups.find((x) => x.groupId === groupId);
        return tx.linked(name, g?.assigned ?? 0, g?.waiting ?? 0);
      },
    });
  });
  return form;
}

function unlinkDialog(s: Scope, g: Linked): void {
  const { lang, license, api } = s;
  const tx = t(lang);
  const path = { licenseId: license.licenseId, groupId: g.groupId };
  confirmDialog(lang, tx.unlink, tx.unlinkConfirm(g.displayName, g.assigned), tx.unlink, (dialog, place) => {
    void submit({
      lang,
      dialog,
      place,
      reload: s.reload,
      send: () => api.DELETE("/licenses/{licenseId}/groups/{groupId}", { params: { path } }),
      said: () => tx.unlinked(g.displayName),
    });
  });
}

/** Who waits, first first: the next free seat goes to the first. */
function waitingList(s: Scope, waiting: Waiter[], names: GroupNames): HTMLElement {
  const tx = t(s.lang);
  if (!waiting.length) return el("p", {}, tx.nobodyWaiting);
  const items = waiting.map((w) =>
    el(
      "li",
      { "data-email": w.email },
      el("strong", {}, w.email),
      ` — ${tx.waitingSince} `,
      el("time", { datetime: w.since }, moment(s.lang, w.since)),
      ` — ${names.get(w.groupId) ?? w.groupId}`,
    ),
  );
  return el("ol", { class: "waiting", "aria-labelledby": "waiting-heading" }, ...items);
}
