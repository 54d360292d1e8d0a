// A licence's history in words: each entry as a short sentence in the person's language,
// drawn from its before and after (the action's code stays in the line's title).
import { el } from "./dom";
import { count, date, moment, number, period, type Lang } from "./locale";
import type { components } from "./openapi";

type Entry = components["schemas"]["HistoryEntry"];
type Term = components["schemas"]["Term"];
type AssignmentState = components["schemas"]["AssignmentState"];
type LicenseState = components["schemas"]["LicenseState"];

/** What an entry says, ready to be put in words: dates and periods already in `lang`. */
interface Facts {
  /** The address the entry is about. */
  who: string;
  /** The access period after the change (or before, when nothing came after). */
  access: string;
  /** The access period before a change, when it was another. */
  was: string | null;
  /** The term bought (a purchase's, a renewal's), its seats and invoice. */
  term: string;
  seats: number;
  invoice: string;
  /** A seat change: the seats before, and the day the new number applies from. */
  seatsBefore: number | null;
  from: string;
  /** The last day of a cancelled licence. */
  lastDay: string;
}

type Phrases = Record<string, (f: Facts) => string>;

const SEATS = { one: "seat", other: "seats" };
const PLAETZE = { one: "Platz", other: "Plätze" };

const en: Phrases = {
  "license.purchased": (f) => `Licence bought: ${count("en", f.seats, SEATS)}, ${f.term}, invoice ${f.invoice}`,
  "license.renewed": (f) => `Licence renewed for ${f.term}: ${count("en", f.seats, SEATS)}, invoice ${f.invoice}`,
  "license.quantity-changed": (f) =>
    `Seats changed ${f.seatsBefore === null ? "" : `from ${number("en", f.seatsBefore)} `}to ${number("en", f.seats)} as of ${f.from}`,
  "license.cancelled": (f) => `Licence cancelled: it ends on ${f.lastDay}`,
  "license.seats-exhausted": () => "Every seat is in use",
  "license.reclaim-changed": () => "The rule for freeing unused seats was changed",
  "license.group-linked": () => "The licence was linked to a user group",
  "license.group-unlinked": () => "The licence was unlinked from a user group",
  "assignment.created": (f) => `Access given to ${f.who}: ${f.access}`,
  "assignment.changed": (f) => `Access of ${f.who} changed: ${f.access}${f.was ? ` (was ${f.was})` : ""}`,
  "assignment.revoked": (f) => `Access of ${f.who} revoked`,
  "assignment.reclaim-warned": (f) => `${f.who} was told that their unused seat will be freed`,
  "invitation.sent": (f) => `Invitation sent to ${f.who}`,
  "invitation.failed": (f) => `The invitation to ${f.who} could not be delivered`,
  "invitation.resent": (f) => `Invitation sent again to ${f.who}`,
  "invitation.accepted": (f) => `${f.who} accepted the invitation`,
  "waiting.added": (f) => `${f.who} was put on the waiting list`,
  "waiting.removed": (f) => `${f.who} was taken off the waiting list`,
};

const de: Phrases = {
  "license.purchased": (f) => `Lizenz gekauft: ${count("de", f.seats, PLAETZE)}, ${f.term}, Rechnung ${f.invoice}`,
  "license.renewed": (f) => `Lizenz verlängert für ${f.term}: ${count("de", f.seats, PLAETZE)}, Rechnung ${f.invoice}`,
  "license.quantity-changed": (f) =>
    `Plätze ${f.seatsBefore === null ? "" : `von ${number("de", f.seatsBefore)} `}auf ${number("de", f.seats)} geändert, ab ${f.from}`,
  "license.cancelled": (f) => `Lizenz gekündigt: Sie endet am ${f.lastDay}`,
  "license.seats-exhausted": () => "Alle Plätze sind belegt",
  "license.reclaim-changed": () => "Die Regel zum Freigeben ungenutzter Plätze wurde geändert",
  "license.group-linked": () => "Die Lizenz wurde mit einer Benutzergruppe verknüpft",
  "license.group-unlinked": () => "Die Lizenz wurde von einer Benutzergruppe getrennt",
  "assignment.created": (f) => `Zugang für ${f.who} vergeben: ${f.access}`,
  "assignment.changed": (f) => `Zugang von ${f.who} geändert: ${f.access}${f.was ? ` (vorher ${f.was})` : ""}`,
  "assignment.revoked": (f) => `Zugang von ${f.who} entzogen`,
  "assignment.reclaim-warned": (f) => `${f.who} wurde benachrichtigt, dass der ungenutzte Platz freigegeben wird`,
  "invitation.sent": (f) => `Einladung an ${f.who} gesendet`,
  "invitation.failed": (f) => `Die Einladung an ${f.who} konnte nicht zugestellt werden`,
  "invitation.resent": (f) => `Einladung an ${f.who} erneut gesendet`,
  "invitation.accepted": (f) => `${f.who} hat die Einladung angenommen`,
  "waiting.added": (f) => `${f.who} wurde auf die Warteliste gesetzt`,
  "waiting.removed": (f) => `${f.who} wurde von der Warteliste genommen`,
};

/** Why something happened (an entry's optional `reason`), in words. */
const reasons: Record<Lang, { label: string } & Record<string, string>> = {
  en: {
    label: "Reason",
    deprovisioned: "removed from the company directory",
    renamed: "the address was renamed",
    inactive: "the seat was not used for a long time",
    "group-left": "left the user group",
    cancelled: "the licence was cancelled",
  },
  de: {
    label: "Grund",
    deprovisioned: "aus dem Firmenverzeichnis entfernt",
    renamed: "die Adresse wurde umbenannt",
    inactive: "der Platz wurde lange nicht genutzt",
    "group-left": "hat die Benutzergruppe verlassen",
    cancelled: "die Lizenz wurde gekündigt",
  },
};

const asAssignment = (s: unknown): AssignmentState | null =>
  s && typeof s === "object" && "validFrom" in s && "validUntil" in s ? (s as AssignmentState) : null;
const asLicense = (s: unknown): LicenseState | null =>
  s && typeof s === "object" && "quantities" in s && "term" in s ? (s as LicenseState) : null;

/** The quantity in force on `day` by a state's steps (the first one's before they start). */
function quantityOn(state: LicenseState, day: string): number {
  const steps = state.quantities.filter((q) => q.from <= day);
  return (steps[steps.length - 1] ?? state.quantities[0])?.quantity ?? 0;
}

/** The term a purchase or renewal bought: a renewal's is the one ahead of the entry's day, or,
 * once it has begun (or from a server before v3), the current one. */
function boughtTerm(e: Entry, after: LicenseState): { term: Term; seats: number; invoice: string } {
  if (e.action === "license.renewed" && after.nextTerm) {
    const next = after.nextTerm;
    return { term: next, seats: next.quantity, invoice: next.invoiceNumber };
  }
  const term = e.action === "license.renewed" ? after.currentTerm : after.term;
  return { term, seats: quantityOn(after, term.start), invoice: after.invoiceNumber };
}

function facts(lang: Lang, e: Entry): Facts {
  const [was, now] = [asAssignment(e.before), asAssignment(e.after)];
  const access = now ?? was;
  const changed = was && now && (was.validFrom !== now.validFrom || was.validUntil !== now.validUntil);
  const [before, after] = [asLicense(e.before), asLicense(e.after)];
  const latest = after?.quantities[after.quantities.length - 1];
  const bought = after ? boughtTerm(e, after) : null;
  return {
    who: e.email ?? "",
    access: access ? period(lang, access.validFrom, access.validUntil) : "",
    was: changed ? period(lang, was.validFrom, was.validUntil) : null,
    term: bought ? period(lang, bought.term.start, bought.term.end) : "",
    seats: (e.action === "license.quantity-changed" ? latest?.quantity : bought?.seats) ?? 0,
    invoice: bought?.invoice ?? "",
    seatsBefore: before && latest ? quantityOn(before, latest.from) : null,
    from: latest ? date(lang, latest.from) : "",
    lastDay: after ? date(lang, after.term.end) : "",
  };
}

/** An entry as a sentence: "Access of anna@example.com revoked. Reason: …". An action this
 * console does not know yet is shown by its code. */
export function sentence(lang: Lang, e: Entry): string {
  const phrase = (lang === "de" ? de : en)[e.action];
  const reason: unknown = (e as { reason?: unknown }).reason;
  const why = typeof reason === "string" && reason ? ` ${reasons[lang].label}: ${reasons[lang][reason] ?? reason}.` : "";
  return phrase ? `${phrase(facts(lang, e))}.${why}` : `${e.action}${why}`;
}

/** The latest entries, newest first: when, who, and what in words (the code as the title). */
export function historyList(lang: Lang, entries: Entry[]): HTMLElement {
  const items = entries.map((e) =>
    el("li", { title: e.action }, el("time", { datetime: e.at }, moment(lang, e.at)), ` · ${e.actor} · ${sentence(lang, e)}`),
  );
  return el("ol", { class: "history" }, ...items);
}
