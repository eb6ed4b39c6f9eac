import { test, expect, Browser, BrowserContextOptions, Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

// What the specs share. The e2e server runs without SMTP, so every email lands
// in /dev/mailbox; the specs share its database, so they share one admin.

/** An organization's first admin, as the first-run setup creates them. */
export interface Admin {
  organization: string;
  first: string;
  last: string;
  email: string;
  password: string;
}

export const admin: Admin = {
  organization: "Riverside Learning",
  first: "Grace",
  last: "Hopper",
  email: "grace@riverside.example",
  password: "a long enough password",
};

// Waits until the page has hydrated (the frontend marks <html data-hydrated>):
// before that a click on a server-rendered control reaches no handler, and a
// debug bundle on a busy machine can take seconds to start.
export async function hydrated(page: Page) {
  await page.locator("html[data-hydrated]").waitFor({ state: "attached", timeout: 60_000 });
}

export async function expectNoSeriousA11yViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(serious.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
}

/** Fills and sends the first-run setup form ("Create your organization"). */
export async function createOrganization(page: Page, who: Admin = admin) {
  await page.getByLabel("Organization name").fill(who.organization);
  await page.getByLabel("Your first name").fill(who.first);
  await page.getByLabel("Your last name").fill(who.last);
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Create organization" }).click();
}

/** Fills and sends the login form. */
export async function logIn(page: Page, email: string, password: string) {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
}

/** Signs the admin in, creating the organization when a spec runs on its own. */
export async function signInAdmin(page: Page, who: Admin = admin) {
  await page.goto("/");
  const setup = page.getByRole("heading", { name: "Create your organization" });
  const login = page.getByRole("heading", { name: "Log in to Muster" });
  await expect(setup.or(login)).toBeVisible();
  if (await setup.isVisible()) {
    await createOrganization(page, who);
  } else {
    await logIn(page, who.email, who.password);
  }
  await expect(page).toHaveURL(/\/admin\/groups$/);
}

export interface ContextOptions {
  javaScriptEnabled?: boolean;
  /** The server's address; the config's `baseURL` unless a spec runs its own server. */
  baseURL?: string;
  /** Cookies and storage to start from, e.g. another context's sign-in. */
  storageState?: BrowserContextOptions["storageState"];
}

/** A browser context of its own (contexts made by hand do not inherit the config's baseURL). */
export function newContext(browser: Browser, { javaScriptEnabled = true, baseURL, storageState }: ContextOptions = {}) {
  return browser.newContext({ baseURL: baseURL ?? test.info().project.use.baseURL, javaScriptEnabled, storageState });
}

/** A page in a browser context of its own. */
export async function newPage(browser: Browser, options: ContextOptions = {}): Promise<Page> {
  const context = await newContext(browser, options);
  return context.newPage();
}

/** The admin, signed in, in a browser context of their own. */
export async function adminPage(browser: Browser, who: Admin = admin, options: ContextOptions = {}): Promise<Page> {
  const page = await newPage(browser, options);
  await signInAdmin(page, who);
  return page;
}

/** Creates a group on the Groups page; `trainings` one a line. */
export async function createGroup(page: Page, name: string, trainings?: string) {
  if (!/\/admin\/groups$/.test(page.url())) await page.goto("/admin/groups");
  await page.getByLabel("Name", { exact: true }).fill(name);
  if (trainings !== undefined) await page.getByLabel("Trainings").fill(trainings);
  await page.getByRole("button", { name: "Create group" }).click();
  await expect(page.getByRole("row", { name: new RegExp(name) })).toBeVisible();
}

export interface Mail {
  /** The recipient. */
  to: string;
  /** Text of the message's row in the mailbox (its subject). */
  subject: string | RegExp;
  /** The opened message's heading; the subject unless it differs. */
  heading?: string | RegExp;
  /** The link to take, by its text. */
  link: RegExp;
  /** What its address must look like; `link` unless stricter. */
  href?: RegExp;
  /** Wait until this many such messages arrived (else at least one). */
  count?: number;
}

/**
 * Waits in the dev mailbox until the message (or `count` of them) arrived,
 * opens the newest, and returns the address of its link.
 */
export async function linkInMail(page: Page, mail: Mail): Promise<string> {
  await page.goto("/dev/mailbox");
  await expect(page.getByText("Emails are not leaving this machine")).toBeVisible();
  const row = page.getByRole("row", { name: new RegExp(mail.to) }).filter({ hasText: mail.subject });
  // The sender delivers within a second or so; reload until it has.
  await expect(async () => {
    await page.reload();
    if (mail.count === undefined) {
      await expect(row.first()).toBeVisible({ timeout: 1000 });
    } else {
      await expect(row).toHaveCount(mail.count, { timeout: 1000 });
    }
  }).toPass({ timeout: 20_000 });
  await row.first().getByRole("link").click();
  await expect(page.getByRole("heading", { name: mail.heading ?? mail.subject })).toBeVisible();
  const href = await page.getByRole("link", { name: mail.link }).first().getAttribute("href");
  expect(href).toMatch(mail.href ?? mail.link);
  return href!;
}

/** Posts to a server function as the signed-in page (same origin, its cookies). */
export async function callServer(page: Page, path: string, form?: Record<string, string>) {
  const origin = new URL(page.url()).origin;
  return page.request.post(path, { headers: { Origin: origin }, form });
}

/** The invitation link in the newest invitation to `email`, once `count` of them arrived (else one). */
export function invitationLinkFor(page: Page, email: string, count?: number): Promise<string> {
  return linkInMail(page, {
    to: email,
    subject: "invites you",
    heading: /invites you to join/,
    link: /\/invite\/[0-9a-f]+/,
    href: /^http:\/\/127\.0\.0\.1:\d+\/invite\/[0-9a-f]{64}$/,
    count,
  });
}
