import { test, expect } from "@playwright/test";
// Runs after foundation.spec.ts (files run in name order, sharing one
// database): that spec expects the first-run page, which signing in here
// would have used up.
import { expectNoSeriousA11yViolations, hydrated, signInAdmin } from "./support";

// Settings → API: an admin creates a token (shown once), a script uses it,
// the page shows when it was last used, and revoking it locks the script out.
test("an API token is created, used by a script, and revoked", async ({ page, request }) => {
  await signInAdmin(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API" }).click();
  await expect(page.getByRole("heading", { name: "API tokens", level: 1 })).toBeVisible();
  await hydrated(page);
  await expectNoSeriousA11yViolations(page);

  const name = `Nightly sync ${Date.now()}`;
  await page.getByLabel("Name").fill(name);
  await page.getByLabel(/Read only/).check();
  await page.getByRole("button", { name: "Create token" }).click();
  const status = page.getByRole("status");
  await expect(status).toContainText(`Token “${name}” created`);
  await expect(status).toContainText("not shown again");
  const token = await page.getByLabel("Token", { exact: true }).inputValue();
  expect(token).toMatch(/^mst_[0-9a-f]{64}$/);
  const row = page.getByRole("row", { name: new RegExp(name) });
  await expect(row).toContainText("Read only");
  await expect(row).toContainText("Never");
  await expect(row).not.toContainText(token.slice(12));

  const groups = await request.get("/api/v1/groups", { headers: { Authorization: `Bearer ${token}` } });
  expect(groups.status()).toBe(200);
  await page.reload();
  await hydrated(page);
  await expect(page.getByRole("row", { name: new RegExp(name) })).not.toContainText("Never");

  await page.getByRole("button", { name: `Revoke ${name}` }).click();
  await expect(page.getByRole("row", { name: new RegExp(name) })).toContainText("Revoked");
  const refused = await request.get("/api/v1/groups", { headers: { Authorization: `Bearer ${token}` } });
  expect(refused.status()).toBe(401);
  expect(refused.headers()["content-type"]).toBe("application/problem+json");
});

test("the API's documentation page lists its operations", async ({ page }) => {
  await page.goto("/api/v1/docs");
  await expect(page.getByRole("heading", { name: "Muster API v1" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "POST /api/v1/imports" , exact: true })).toBeVisible();
  await expectNoSeriousA11yViolations(page);
});
