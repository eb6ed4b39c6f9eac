import { test, expect } from "@playwright/test";
import { admin, createOrganization, expectNoSeriousA11yViolations, logIn } from "./support";

// One journey, in order: the database starts empty for this run.
test.describe.configure({ mode: "serial" });

test("first-run setup, log out, log in, create a group with two trainings", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Create your organization" })).toBeVisible();
  await expectNoSeriousA11yViolations(page);

  await createOrganization(page);

  await expect(page).toHaveURL(/\/admin\/groups$/);
  await expect(page.getByRole("heading", { name: "Groups", exact: true })).toBeVisible();
  await expect(page.getByText("No groups yet.")).toBeVisible();
  await expect(page.getByText(admin.organization)).toBeVisible();
  await expectNoSeriousA11yViolations(page);

  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("heading", { name: "Log in to Muster" })).toBeVisible();
  await expectNoSeriousA11yViolations(page);

  await logIn(page, admin.email, "wrong password!");
  await expect(page.getByRole("alert")).toHaveText("Email or password is incorrect.");

  await logIn(page, admin.email, admin.password);
  await expect(page).toHaveURL(/\/admin\/groups$/);

  await page.getByLabel("Name", { exact: true }).fill("Spring Cohort");
  await page.getByLabel("Description").fill("New hires, spring intake");
  await page.getByLabel("Invitations expire after (days)").fill("21");
  await page.getByLabel("Trainings").fill("Workplace safety\nCode of conduct");
  await page.getByRole("button", { name: "Create group" }).click();

  const row = page.getByRole("row", { name: /Spring Cohort/ });
  await expect(row).toBeVisible();
  await expect(row).toContainText("Workplace safety, Code of conduct");
  await expect(row).toContainText("21 days");

  // The list is rendered by the server too: a reload shows the same group.
  await page.reload();
  await expect(page.getByRole("row", { name: /Spring Cohort/ })).toBeVisible();
  await expectNoSeriousA11yViolations(page);
});

test("the admin pages are reachable by keyboard", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Email").fill(admin.email);
  await page.getByLabel("Password").fill(admin.password);
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/admin\/groups$/);
  await page.getByRole("link", { name: "Contracts" }).focus();
  await page.keyboard.press("Enter");
  await expect(page.getByRole("heading", { name: "Contracts", exact: true })).toBeVisible();
  await page.getByLabel("Name").fill("District 2027");
  await page.getByLabel("Seat limit").fill("250");
  await page.getByRole("button", { name: "Add contract" }).click();
  await expect(page.getByRole("row", { name: /District 2027/ })).toContainText("250");
  await expectNoSeriousA11yViolations(page);

  await page.getByRole("link", { name: "People" }).click();
  await expect(page.getByRole("row", { name: /Grace Hopper/ })).toContainText(admin.email);
  await expectNoSeriousA11yViolations(page);
});
