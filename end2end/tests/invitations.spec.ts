import { test, expect } from "@playwright/test";
import {
  admin,
  adminPage,
  createGroup,
  expectNoSeriousA11yViolations,
  invitationLinkFor,
  newContext,
  signInAdmin,
} from "./support";

// The e2e server runs without SMTP, so every email lands in /dev/mailbox.
const group = "Autumn Intake";
const lin = "lin@learners.example";
const max = "max@learners.example";

test.describe.configure({ mode: "serial" });
test.setTimeout(120_000);

test("an admin invites two people by hand; one registers through the emailed link", async ({ page, browser }) => {
  await signInAdmin(page);
  await createGroup(page, group, "Orientation\nFirst aid");

  await page.getByRole("link", { name: "Invitations" }).click();
  await expect(page.getByRole("heading", { name: "Invitations", exact: true })).toBeVisible();
  await expect(page.getByText("Emails are not leaving this machine")).toBeVisible();
  await page.getByLabel("Invite to group").selectOption({ label: group });
  await page.getByLabel("Email addresses").fill(`${lin}, ${max}\nnot-an-email`);
  await page.getByRole("button", { name: "Send invitations" }).click();
  const results = page.getByRole("table", { name: "Invitation results" });
  await expect(results.getByRole("row", { name: new RegExp(lin) })).toContainText("Invited");
  await expect(results.getByRole("row", { name: new RegExp(max) })).toContainText("Invited");
  await expect(results.getByRole("row", { name: /not-an-email/ })).toContainText("Invalid");
  const list = page.getByRole("table", { name: "Invitations" });
  await expect(list.getByRole("row", { name: new RegExp(lin) })).toContainText("Pending");

  const link = await invitationLinkFor(page, lin);

  // The learner, in their own browser.
  const learnerContext = await newContext(browser);
  const learner = await learnerContext.newPage();
  const response = await learner.goto(link);
  expect(response!.headers()["referrer-policy"]).toBe("no-referrer");
  await expect(learner.getByRole("heading", { name: `Join ${group}` })).toBeVisible();
  await expect(learner.getByText(`${admin.organization} has invited ${lin} to join ${group}.`)).toBeVisible();
  await expectNoSeriousA11yViolations(learner);
  await learner.getByLabel("First name").fill("Lin");
  await learner.getByLabel("Last name").fill("Learner");
  await learner.getByLabel("Password").fill("learner password 1");
  await learner.getByRole("button", { name: "Create account and accept" }).click();
  await expect(learner).toHaveURL(/\/\?welcome$/);
  await expect(learner.getByRole("heading", { name: "Welcome, Lin" })).toBeVisible();
  await expect(learner.getByText("You have accepted the invitation.")).toBeVisible();
  await expect(learner.getByRole("list", { name: `Trainings of ${group}` })).toContainText("Orientation");
  await expectNoSeriousA11yViolations(learner);

  // The link is single use.
  await learner.goto(link);
  await expect(learner.getByRole("heading", { name: "This invitation has already been accepted" })).toBeVisible();
  await learnerContext.close();

  // The admin sees the invitation active and the person in People.
  await page.goto("/admin/invitations?status=active");
  await expect(page.getByRole("table", { name: "Invitations" }).getByRole("row", { name: new RegExp(lin) })).toContainText("Active");
  await page.getByRole("link", { name: "People" }).click();
  await expect(page.getByRole("row", { name: /Lin Learner/ })).toContainText("learner");
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the invitation page registers and accepts with plain forms", async ({ page, browser }) => {
    const adminTab = await adminPage(browser);
    const link = await invitationLinkFor(adminTab, max);

    await page.goto(link);
    await expect(page.getByRole("heading", { name: `Join ${group}` })).toBeVisible();
    await page.getByLabel("First name").fill("Max");
    await page.getByLabel("Last name").fill("Noscript");
    await page.getByLabel("Password").fill("learner password 2");
    await page.getByRole("button", { name: "Create account and accept" }).click();
    await expect(page).toHaveURL(/\/\?welcome$/);
    await expect(page.getByRole("heading", { name: "Welcome, Max" })).toBeVisible();
    await expect(page.getByText("First aid")).toBeVisible();

    await adminTab.goto("/admin/invitations?search=max");
    await expect(adminTab.getByRole("table", { name: "Invitations" }).getByRole("row", { name: new RegExp(max) })).toContainText("Active");
    await adminTab.context().close();
  });

  test("an existing account logs in to accept, without JavaScript", async ({ page, browser }) => {
    const adminTab = await adminPage(browser);
    await createGroup(adminTab, "Winter Intake");
    await adminTab.getByRole("link", { name: "Invitations" }).click();
    await adminTab.getByLabel("Invite to group").selectOption({ label: "Winter Intake" });
    await adminTab.getByLabel("Email addresses").fill(lin);
    await adminTab.getByRole("button", { name: "Send invitations" }).click();
    await expect(adminTab.getByRole("table", { name: "Invitation results" })).toContainText("Invited");
    const link = await invitationLinkFor(adminTab, lin);

    await page.goto(link);
    await expect(page.getByRole("heading", { name: "Log in to accept" })).toBeVisible();
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Log in and accept" }).click();
    await expect(page.getByRole("alert")).toHaveText("The password is incorrect.");
    await page.getByLabel("Password").fill("learner password 1");
    await page.getByRole("button", { name: "Log in and accept" }).click();
    await expect(page.getByRole("heading", { name: "Welcome, Lin" })).toBeVisible();
    await expect(page.getByText("Winter Intake")).toBeVisible();
    await expect(page.getByText(group)).toBeVisible();
    await adminTab.context().close();
  });
});
