import { test, expect, Page } from "@playwright/test";
import {
  admin,
  adminPage,
  createGroup,
  expectNoSeriousA11yViolations,
  hydrated,
  linkInMail,
  newContext,
  signInAdmin,
} from "./support";

// The e2e server runs without SMTP, so every email lands in /dev/mailbox.
const group = "Open Cohort";
const slug = "riverside-open";
const allowedDomain = "joiners.example";

/** The email confirmation link the dev mailbox holds for `email`. */
function confirmationLinkFor(page: Page, email: string): Promise<string> {
  return linkInMail(page, {
    to: email,
    subject: "Confirm your email",
    heading: /Confirm your email to join/,
    link: /\/verify-email\/[0-9a-f]+/,
    href: /^http:\/\/127\.0\.0\.1:\d+\/verify-email\/[0-9a-f]{64}$/,
  });
}

/** Fills and sends the join page's sign-up form. */
async function signUp(page: Page, email: string, first: string) {
  await page.getByLabel("Email", { exact: true }).fill(email);
  await page.getByLabel("First name").fill(first);
  await page.getByLabel("Last name").fill("Joiner");
  await page.getByRole("button", { name: "Create account" }).click();
}

/** On the page the emailed link opens: the password is chosen here, by whoever holds the email. */
async function choosePasswordAndJoin(page: Page) {
  await page.getByLabel("Password", { exact: true }).fill("joiner password 1");
  await page.getByLabel("Type it again").fill("joiner password 1");
  await page.getByRole("button", { name: "Confirm and join" }).click();
}

async function setPageOn(page: Page, on: boolean) {
  await page.goto("/admin/join");
  await expect(page.getByRole("heading", { name: "Join page", exact: true })).toBeVisible();
  await hydrated(page);
  await page.getByLabel("Join page is on").setChecked(on);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Saved.")).toBeVisible();
}

test.describe.configure({ mode: "serial" });
test.setTimeout(120_000);

test("an admin opens the join page; someone with an allowed domain joins after confirming the email", async ({ page, browser }) => {
  await signInAdmin(page);
  await createGroup(page, group, "Welcome tour\nCode of conduct");

  await page.getByRole("link", { name: "Join page" }).click();
  await expect(page.getByRole("heading", { name: "Join page", exact: true })).toBeVisible();
  await expectNoSeriousA11yViolations(page);
  // Turning it on without a link or group is refused.
  await page.getByLabel("Join page is on").check();
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("alert")).toContainText("Link: choose a link");

  // The live check: reserved words, then availability.
  const link = page.getByLabel("Link", { exact: true });
  await link.fill("admin");
  await expect(page.locator("#join-slug-status")).toContainText("reserved");
  await link.fill(slug);
  await expect(page.locator("#join-slug-status")).toHaveText("Available.");
  await page.getByLabel("Group joiners enter").selectOption({ label: group });
  await page.getByLabel("Welcome text (optional)").fill("Welcome to the open cohort.");
  await page.getByLabel("Allowed email domains").fill(allowedDomain);
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Saved.")).toBeVisible();

  // The absolute link, and the copy button (clipboard API, then the fallback without it).
  const linkField = page.getByLabel("Join page link");
  await expect(linkField).toHaveValue(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/join/${slug}$`));
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.getByRole("button", { name: "Copy link" }).click();
  await expect(page.getByText("Link copied.")).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(await linkField.inputValue());
  await page.evaluate(() => Object.defineProperty(navigator, "clipboard", { value: undefined, configurable: true }));
  await page.evaluate(() => navigator.clipboard === undefined).then((gone) => expect(gone).toBe(true));
  await page.getByRole("button", { name: "Copy link" }).click();
  await expect(page.getByText(/Link copied\.|press Ctrl\+C/)).toBeVisible();
  await expectNoSeriousA11yViolations(page);

  // The visitor, in their own browser.
  const visitorContext = await newContext(browser);
  const visitor = await visitorContext.newPage();
  await visitor.goto(`/join/${slug}`);
  await expect(visitor.getByRole("heading", { name: `Join ${admin.organization}` })).toBeVisible();
  await expect(visitor.getByText("Welcome to the open cohort.")).toBeVisible();
  await expect(visitor.getByText(`Only email addresses at ${allowedDomain} can join.`)).toBeVisible();
  await expectNoSeriousA11yViolations(visitor);
  await signUp(visitor, `jo@${allowedDomain}`, "Jo");
  await expect(visitor).toHaveURL(new RegExp(`/join/${slug}\\?sent$`));
  await expect(visitor.getByText("Check your email.")).toBeVisible();

  const confirmation = await confirmationLinkFor(page, `jo@${allowedDomain}`);
  const response = await visitor.goto(confirmation);
  expect(response!.headers()["referrer-policy"]).toBe("no-referrer");
  await expect(visitor.getByRole("heading", { name: "Choose your password" })).toBeVisible();
  await expectNoSeriousA11yViolations(visitor);
  await choosePasswordAndJoin(visitor);
  await expect(visitor.getByRole("heading", { name: "Welcome, Jo" })).toBeVisible();
  await expect(visitor.getByRole("list", { name: `Trainings of ${group}` })).toContainText("Welcome tour");

  // Single use.
  await visitor.goto(confirmation);
  await expect(visitor.getByRole("heading", { name: "Your email is confirmed" })).toBeVisible();
  await visitorContext.close();
});

test("a refused domain is told so before anything is created", async ({ browser }) => {
  const context = await newContext(browser);
  const visitor = await context.newPage();
  await visitor.goto(`/join/${slug}`);
  await signUp(visitor, "someone@elsewhere.example", "Sam");
  await expect(visitor.getByRole("alert")).toHaveText(
    `This email address cannot join here: its domain is not accepted. Only email addresses at ${allowedDomain} can join.`,
  );
  await expectNoSeriousA11yViolations(visitor);
  await context.close();
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("joining with plain forms: sign up, confirm through the dev mailbox, member of the group", async ({ page, browser }) => {
    await page.goto(`/join/${slug}`);
    await expect(page.getByRole("heading", { name: `Join ${admin.organization}` })).toBeVisible();
    await signUp(page, "someone@elsewhere.example", "Sam");
    await expect(page.getByRole("alert")).toContainText("its domain is not accepted");

    await signUp(page, `noscript@${allowedDomain}`, "Noa");
    await expect(page.getByText("Check your email.")).toBeVisible();
    const adminTab = await adminPage(browser);
    const confirmation = await confirmationLinkFor(adminTab, `noscript@${allowedDomain}`);
    await page.goto(confirmation);
    await choosePasswordAndJoin(page);
    await expect(page.getByRole("heading", { name: "Welcome, Noa" })).toBeVisible();
    await expect(page.getByText("Code of conduct")).toBeVisible();
    await adminTab.context().close();
  });

  test("a page turned off answers 404 like a link that never existed", async ({ page, browser }) => {
    const adminTab = await adminPage(browser);
    await setPageOn(adminTab, false);

    const off = await page.goto(`/join/${slug}`);
    expect(off!.status()).toBe(404);
    await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
    const offText = await page.locator("body").innerText();
    const unknown = await page.goto("/join/no-such-page");
    expect(unknown!.status()).toBe(404);
    expect(await page.locator("body").innerText()).toBe(offText);
    expect(await page.title()).toBe("Page not found · Muster");

    await setPageOn(adminTab, true);
    const on = await page.goto(`/join/${slug}`);
    expect(on!.status()).toBe(200);
    await adminTab.context().close();
  });
});
