// The console's texts in English and German; dates and numbers in the user's locale.

export type Lang = "en" | "de";

const texts = {
  en: {
    title: "Manage Your Licenses",
    language: "Language",
    signIn: "Sign in",
    signInLocal: "Choose a demo identity of the local stack (make dev).",
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
    overAssigned: (n: number) =>
      `Over-assigned: ${n} ${n === 1 ? "seat" : "seats"} more in use than the licence has. Shorten or revoke access to resolve it.`,
    cancelled: "Cancelled",
    autoRenew: "renews automatically",
    error: "The request failed:",
    myAccess: "My access",
    accessPeriod: "Access period",
    accessNone: "You have no access to any licence at the moment.",
    nav: "Sections",
  },
  de: {
    title: "Lizenzen verwalten",
    language: "Sprache",
    signIn: "Anmelden",
    signInLocal: "Wählen Sie eine Demo-Identität der lokalen Umgebung (make dev).",
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
    overAssigned: (n: number) =>
      `Überbelegt: ${n} ${n === 1 ? "Platz" : "Plätze"} mehr in Gebrauch, als die Lizenz hat. Kürzen oder entziehen Sie Zugänge, um das zu beheben.`,
    cancelled: "Gekündigt",
    autoRenew: "verlängert sich automatisch",
    error: "Die Anfrage ist fehlgeschlagen:",
    myAccess: "Mein Zugang",
    accessPeriod: "Zugangszeitraum",
    accessNone: "Sie haben derzeit keinen Zugang zu einer Lizenz.",
    nav: "Bereiche",
  },
} as const;

export type Texts = (typeof texts)[Lang];

export function t(lang: Lang): Texts {
  return texts[lang];
}

/** A calendar date (YYYY-MM-DD) in the user's locale, without a time zone shift. */
export function date(lang: Lang, iso: string): string {
  const [y, m, d] = iso.split("-").map(Number);
  const utc = new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1));
  return new Intl.DateTimeFormat(lang === "de" ? "de-DE" : "en-GB", {
    dateStyle: "medium",
    timeZone: "UTC",
  }).format(utc);
}
