// The console in headless Chromium (Debian's `chromium`, driven by playwright-core), as a
// person uses it: sign in with a demo identity, read the overview, filter, switch language,
// sign out. Run by tests/tests/console.rs against its own local stack:
//   node console/tests/browser.mjs http://127.0.0.1:<gateway port>
// It prints one line per step and exits non-zero on the first failure.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const base = process.argv[2];
assert.ok(base, "usage: browser.mjs BASE_URL");
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const step = (text) => console.log(`ok - ${text}`);
try {
  const page = await browser.newPage({ locale: "en-GB" });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  const started = Date.now();
  await page.goto(`${base}/console/`);
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  step(`sign-in screen in ${Date.now() - started} ms`);

  await page.getByRole("button", { name: "Licence admin of cust-1001 (buyer@example.com)" }).click();
  const table = page.getByRole("table", { name: "My Licenses" });
  await table.waitFor();
  const tecdoc = table.getByRole("row").filter({ hasText: "TecDoc Catalogue" });
  const cells = await tecdoc.getByRole("cell").allTextContents();
  // Current term, subscription, invoice, quantity, assigned, free, status.
  assert.equal(cells[3], "5", `quantity: ${cells}`);
  assert.equal(cells[4], "2", `assigned seats (the buyer and Anna): ${cells}`);
  assert.equal(cells[5], "3", `free seats: ${cells}`);
  assert.equal(cells[6], "Active");
  const tecdocId = await tecdoc.getAttribute("data-license");
  step("overview: TecDoc Catalogue with 5 seats, 2 assigned, 3 free");

  const over = table.getByRole("row").filter({ hasText: "Over-assigned: 2 seats more in use" });
  const rows = await table.getByRole("row").allTextContents();
  assert.equal(await over.count(), 1, `the over-assigned licence is flagged in words: ${rows.join(" | ")}`);
  step("an over-assigned licence carries a warning in words");

  await page.getByLabel("Status").selectOption("expired");
  await table.getByRole("row").filter({ hasText: "Parts Archive" }).waitFor();
  assert.equal(await table.getByRole("row").filter({ hasText: "TecDoc" }).count(), 0);
  step("status filter: expired shows only the expired licence");

  await page.getByLabel("Language").selectOption("de");
  await page.getByRole("table", { name: "Meine Lizenzen" }).waitFor();
  assert.equal(await page.getAttribute("html", "lang"), "de");
  step("German: headings, labels and dates follow");

  await page.getByRole("button", { name: "Abmelden" }).click();
  await page.getByRole("heading", { name: "Anmelden" }).waitFor();
  await page.getByLabel("Sprache").selectOption("en");
  step("sign out");

  // A user sees their own access, and no longer after an admin revokes it.
  await page.getByRole("button", { name: "User anna@example.com of cust-1001" }).click();
  await page.getByRole("heading", { name: "My access" }).waitFor();
  const anna = page.locator(`li[data-license="${tecdocId}"]`);
  assert.match(await anna.textContent(), /TecDoc Catalogue — Access period: /);
  assert.equal(await page.getByRole("button", { name: "My Licenses" }).count(), 0, "users get no admin screens");
  step("a user's own access");
  const identities = await (await fetch(`${base}/console/identities.json`)).json();
  const admin = identities.find((i) => i.id === "admin").token;
  const revoked = await fetch(`${base}/licenses/${tecdocId}/assignments/anna%40example.com`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${admin}` },
  });
  assert.equal(revoked.status, 200);
  await page.reload();
  await page.getByRole("heading", { name: "My access" }).waitFor();
  assert.equal(await anna.count(), 0, "the revoked seat is gone");
  step("after a revoke, the user's access no longer shows it");
  assert.deepEqual(errors, [], "no script errors");
} finally {
  await browser.close();
}
