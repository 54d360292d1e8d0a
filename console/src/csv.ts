// Export CSV on User Management: every assignment of the licence as one file. The API
// writes the format (infra/openapi.yaml, "CSV export"); the console only moves the file.
// Import CSV is csv-import.ts.
import type { Api, License } from "./api";
import { t, type Lang } from "./i18n";
import { el } from "./dom";
import { refusal } from "./refusal";

/** `<product>-users-<YYYY-MM-DD>.csv` (today, the person's own date), or the licence id
 * where the product's name leaves nothing to name a file by. */
export function fileName(license: License, now = new Date()): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const day = `${now.getFullYear()}-${two(now.getMonth() + 1)}-${two(now.getDate())}`;
  const stem = license.productName.replace(/[^\p{L}\p{N}]+/gu, "-").replace(/^-+|-+$/g, "");
  return `${stem || license.licenseId}-users-${day}.csv`;
}

/** Export CSV: the licence's assignments as a download. The browser asks for gzip itself and
 * fetch decodes it; a refusal (e.g. 406 export-too-large) is shown in `place`. */
export async function exportCsv(lang: Lang, api: Api, license: License, place: HTMLElement, status: HTMLElement): Promise<void> {
  const tx = t(lang);
  place.replaceChildren();
  try {
    const { data, error, response } = await api.GET("/licenses/{licenseId}/assignments", {
      params: { path: { licenseId: license.licenseId } },
      headers: { Accept: "text/csv" },
      parseAs: "blob",
    });
    if (!data) {
      place.replaceChildren(refusal(lang, error, response));
      return;
    }
    const name = fileName(license);
    const url = URL.createObjectURL(data);
    const link = el("a", { href: url, download: name, hidden: "" });
    document.body.append(link);
    link.click();
    link.remove();
    // The download has taken the file by the time the next task runs.
    window.setTimeout(() => URL.revokeObjectURL(url), 1000);
    status.textContent = tx.exported(name);
  } catch (e) {
    place.replaceChildren(refusal(lang, e));
  }
}
