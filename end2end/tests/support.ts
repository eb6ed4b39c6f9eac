import { expect, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

// What the specs share. The e2e server runs without SMTP, so every email lands
// in /dev/mailbox; the specs share its database, so they share one admin.
export const admin = {
  organization: "Riverside Learning",
  first: "Grace",
  last: "Hopper",
  email: "grace@riverside.example",
  password: "a long enough password",
};

export async function expectNoSeriousA11yViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(serious.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
}

/** Signs the admin in, creating the organization when a spec runs on its own. */
export async function signInAdmin(page: Page) {
  await page.goto("/");
  const setup = page.getByRole("heading", { name: "Create your organization" });
  const login = page.getByRole("heading", { name: "Log in to Muster" });
  await expect(setup.or(login)).toBeVisible();
  if (await setup.isVisible()) {
    await page.getByLabel("Organization name").fill(admin.organization);
    await page.getByLabel("Your first name").fill(admin.first);
    await page.getByLabel("Your last name").fill(admin.last);
    await page.getByLabel("Email").fill(admin.email);
    await page.getByLabel("Password").fill(admin.password);
    await page.getByRole("button", { name: "Create organization" }).click();
  } else {
    await page.getByLabel("Email").fill(admin.email);
    await page.getByLabel("Password").fill(admin.password);
    await page.getByRole("button", { name: "Log in" }).click();
  }
  await expect(page).toHaveURL(/\/admin\/groups$/);
}
