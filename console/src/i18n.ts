// The console's texts in English and German. Dates, numbers and plural forms come from
// locale.ts (one locale per UI language).
import { count, number, type Lang } from "./locale";

export { date, locale, moment, number, period, count, type Lang } from "./locale";

const SEATS = { one: "seat", other: "seats" };
const USERS = { one: "user", other: "users" };
const PLAETZE = { one: "Platz", other: "Plätze" };
const BENUTZER = { one: "Benutzer", other: "Benutzer" };

const en = {
  title: "Manage Your Licenses",
  language: "Language",
  signIn: "Sign in",
  signInLocal: "Choose a demo identity of the local stack (make dev).",
  signInOidc: "Sign in with your company account to manage your licences.",
  signInButton: "Sign in",
  signInFailed: "Sign-in did not succeed:",
  signOut: "Sign out",
  myLicenses: "My Licenses",
  status: "Status",
  all: "All",
  active: "Active",
  upcoming: "Upcoming",
  expired: "Expired",
  product: "Product",
  term: "Current term",
  subscription: "Subscription",
  invoice: "Invoice number",
  quantity: "Quantity",
  assigned: "Assigned seats",
  free: "Free seats",
  none: "No licences with this status.",
  inNextTerm: (text: string) => `Next term: ${text}`,
  overAssigned: (n: number) =>
    `Over-assigned: ${count("en", n, SEATS)} more in use than the licence has. Shorten or revoke access to resolve it.`,
  cancelled: "Cancelled",
  autoRenew: "renews automatically",
  error: "The request failed:",
  myAccess: "My access",
  accessPeriod: "Access period",
  accessNone: "You have no access to any licence at the moment.",
  nav: "Sections",
  manage: (product: string) => `User Management: ${product}`,
  back: "Back to My Licenses",
  email: "E-mail",
  period: "Access period",
  invitation: "Invitation",
  actions: "Actions",
  assignUser: "Assign User",
  emails: "Email Addresses",
  emailsHint: "Separate addresses with commas, semicolons or line breaks.",
  validFrom: "From",
  validUntil: "Until",
  mailLanguage: "Invitation language",
  assign: "Assign",
  cancel: "Cancel",
  change: "Change",
  save: "Save",
  revoke: "Revoke",
  revokeConfirm: (email: string) => `Revoke the access of ${email}? Their seat is free at once.`,
  resend: "Resend invitation",
  resent: (email: string) => `A new invitation to ${email} is on its way.`,
  rateLimited: (seconds: number) => `Please wait ${Math.ceil(seconds / 60)} min before sending it again.`,
  preview: (seats: number, already: number) =>
    `Takes ${count("en", seats, SEATS)}` + (already ? `; ${number("en", already)} already assigned` : "") + ".",
  invalidEmails: "These entries are no e-mail addresses:",
  insufficient: (requested: number, available: number) =>
    `Not enough free seats: ${number("en", requested)} requested, ${number("en", available)} available over this period.`,
  assignedDone: (n: number) => `${count("en", n, USERS)} assigned.`,
  correct: "Please correct:",
  row: "Row",
  tooMany: (seconds: number) => `Too many addresses at once: please try again in ${seconds} s.`,
  exportCsv: "Export CSV",
  exported: (file: string) => `Downloaded ${file}.`,
  importCsv: "Import CSV",
  importHelp:
    "The first row names the columns: email, and optionally validFrom, validUntil (YYYY-MM-DD or DD.MM.YYYY) and language (en or de); " +
    "empty cells take the defaults (today to the end of the term, invitation in English). Other columns are ignored, so an exported file " +
    "can be edited in a spreadsheet and imported again; files that Excel saves with semicolons (as in German) work too. At most 1000 rows.",
  importFile: "CSV file",
  importText: "CSV text",
  importTextHint: "Paste it here, or choose a file to see and correct it here.",
  importButton: "Import",
  importPreview: (n: number, already: number) =>
    `${count("en", n, { one: "address", other: "addresses" })} to assign` + (already ? `, ${number("en", already)} already assigned` : "") + ".",
  seatsAfter: (used: number, quantity: number, free: number) =>
    `The licence would then have ${number("en", used)} of ${count("en", quantity, SEATS)} in use, ${number("en", free)} free.`,
  nothingNew: "Nothing to import: every address is already assigned.",
  toAssign: "To be assigned",
  andMore: (n: number) => `and ${number("en", n)} more`,
  fileTooLarge: "The file is larger than 256 KB; import at most 1000 rows at once.",
  importedDone: (n: number, already: number) =>
    `${count("en", n, USERS)} imported` + (already ? `; ${number("en", already)} already assigned` : "") + ".",
  next: "Next page",
  previous: "Previous page",
  noAssignments: "Nobody is assigned yet.",
  history: "History",
  usage: "Seat usage",
  noUsage: "No usage to show.",
  usageSummary: (used: number, quantity: number, from: string) =>
    `At most ${count("en", used, SEATS)} in use, with ${number("en", quantity)} bought (from ${from}).`,
  usageOver: (n: number) => `Over-assigned on ${count("en", n, { one: "stretch", other: "stretches" })} of days (hatched).`,
  usageUsed: "Seats in use",
  usageQuantity: "Seats bought",
  usageOverKey: "Over-assigned",
  usageAsTable: "Show as a table",
  today: "Today",
  statusOf: { active: "Active", scheduled: "Scheduled", expired: "Expired", revoked: "Revoked" },
  invitationOf: { pending: "Pending", sent: "Sent", failed: "Failed", none: "None" },
};

export type Texts = typeof en;

const de: Texts = {
  title: "Lizenzen verwalten",
  language: "Sprache",
  signIn: "Anmelden",
  signInLocal: "Wählen Sie eine Demo-Identität der lokalen Umgebung (make dev).",
  signInOidc: "Melden Sie sich mit Ihrem Firmenkonto an, um Ihre Lizenzen zu verwalten.",
  signInButton: "Anmelden",
  signInFailed: "Die Anmeldung ist nicht gelungen:",
  signOut: "Abmelden",
  myLicenses: "Meine Lizenzen",
  status: "Status",
  all: "Alle",
  active: "Aktiv",
  upcoming: "Bevorstehend",
  expired: "Abgelaufen",
  product: "Produkt",
  term: "Aktuelle Laufzeit",
  subscription: "Abonnement",
  invoice: "Rechnungsnummer",
  quantity: "Anzahl",
  assigned: "Zugewiesene Plätze",
  free: "Freie Plätze",
  none: "Keine Lizenzen mit diesem Status.",
  inNextTerm: (text: string) => `Nächste Laufzeit: ${text}`,
  overAssigned: (n: number) =>
    `Überbelegt: ${count("de", n, PLAETZE)} mehr in Gebrauch, als die Lizenz hat. Kürzen oder entziehen Sie Zugänge, um das zu beheben.`,
  cancelled: "Gekündigt",
  autoRenew: "verlängert sich automatisch",
  error: "Die Anfrage ist fehlgeschlagen:",
  myAccess: "Mein Zugang",
  accessPeriod: "Zugangszeitraum",
  accessNone: "Sie haben derzeit keinen Zugang zu einer Lizenz.",
  nav: "Bereiche",
  manage: (product: string) => `Benutzerverwaltung: ${product}`,
  back: "Zurück zu Meine Lizenzen",
  email: "E-Mail",
  period: "Zugangszeitraum",
  invitation: "Einladung",
  actions: "Aktionen",
  assignUser: "Benutzer zuweisen",
  emails: "E-Mail-Adressen",
  emailsHint: "Adressen mit Komma, Semikolon oder Zeilenumbruch trennen.",
  validFrom: "Von",
  validUntil: "Bis",
  mailLanguage: "Sprache der Einladung",
  assign: "Zuweisen",
  cancel: "Abbrechen",
  change: "Ändern",
  save: "Speichern",
  revoke: "Entziehen",
  revokeConfirm: (email: string) => `Den Zugang von ${email} entziehen? Der Platz ist sofort frei.`,
  resend: "Einladung erneut senden",
  resent: (email: string) => `Eine neue Einladung an ${email} ist unterwegs.`,
  rateLimited: (seconds: number) => `Bitte warten Sie ${Math.ceil(seconds / 60)} Min., bevor Sie sie erneut senden.`,
  preview: (seats: number, already: number) =>
    `Belegt ${count("de", seats, PLAETZE)}` + (already ? `; ${number("de", already)} bereits zugewiesen` : "") + ".",
  invalidEmails: "Diese Einträge sind keine E-Mail-Adressen:",
  insufficient: (requested: number, available: number) =>
    `Nicht genug freie Plätze: ${number("de", requested)} angefragt, ${number("de", available)} frei in diesem Zeitraum.`,
  assignedDone: (n: number) => `${count("de", n, BENUTZER)} zugewiesen.`,
  correct: "Bitte korrigieren:",
  row: "Zeile",
  tooMany: (seconds: number) => `Zu viele Adressen auf einmal: Bitte in ${seconds} s erneut versuchen.`,
  exportCsv: "CSV exportieren",
  exported: (file: string) => `${file} heruntergeladen.`,
  importCsv: "CSV importieren",
  importHelp:
    "Die erste Zeile nennt die Spalten: email und optional validFrom, validUntil (JJJJ-MM-TT oder TT.MM.JJJJ) und language (en oder de); " +
    "leere Zellen nehmen die Vorgaben (ab heute bis zum Ende der Laufzeit, Einladung auf Englisch). Andere Spalten werden übergangen: " +
    "Eine exportierte Datei lässt sich in einer Tabellenkalkulation bearbeiten und wieder importieren; Dateien, die Excel mit Semikolon " +
    "speichert (wie im Deutschen), gehen auch. Höchstens 1000 Zeilen.",
  importFile: "CSV-Datei",
  importText: "CSV-Text",
  importTextHint: "Hier einfügen, oder eine Datei wählen, um sie hier zu sehen und zu korrigieren.",
  importButton: "Importieren",
  importPreview: (n: number, already: number) =>
    `${count("de", n, { one: "Adresse wird", other: "Adressen werden" })} zugewiesen` +
    (already ? `, ${number("de", already)} bereits zugewiesen` : "") +
    ".",
  seatsAfter: (used: number, quantity: number, free: number) =>
    `Die Lizenz hätte dann ${number("de", used)} von ${count("de", quantity, { one: "Platz", other: "Plätzen" })} in Gebrauch, ${number("de", free)} frei.`,
  nothingNew: "Nichts zu importieren: Alle Adressen sind bereits zugewiesen.",
  toAssign: "Werden zugewiesen",
  andMore: (n: number) => `und ${number("de", n)} weitere`,
  fileTooLarge: "Die Datei ist größer als 256 KB; importieren Sie höchstens 1000 Zeilen auf einmal.",
  importedDone: (n: number, already: number) =>
    `${count("de", n, BENUTZER)} importiert` + (already ? `; ${number("de", already)} bereits zugewiesen` : "") + ".",
  next: "Nächste Seite",
  previous: "Vorherige Seite",
  noAssignments: "Noch niemand ist zugewiesen.",
  history: "Verlauf",
  usage: "Platznutzung",
  noUsage: "Keine Nutzung anzuzeigen.",
  usageSummary: (used: number, quantity: number, from: string) =>
    `Höchstens ${count("de", used, PLAETZE)} in Gebrauch, ${number("de", quantity)} gekauft (ab ${from}).`,
  usageOver: (n: number) => `Überbelegt an ${count("de", n, { one: "Zeitraum", other: "Zeiträumen" })} (schraffiert).`,
  usageUsed: "Plätze in Gebrauch",
  usageQuantity: "Gekaufte Plätze",
  usageOverKey: "Überbelegt",
  usageAsTable: "Als Tabelle anzeigen",
  today: "Heute",
  statusOf: { active: "Aktiv", scheduled: "Geplant", expired: "Abgelaufen", revoked: "Entzogen" },
  invitationOf: { pending: "Ausstehend", sent: "Gesendet", failed: "Fehlgeschlagen", none: "Keine" },
};

export function t(lang: Lang): Texts {
  return lang === "de" ? de : en;
}
