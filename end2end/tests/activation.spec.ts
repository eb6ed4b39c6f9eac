import { test, expect, Browser, Page } from "@playwright/test";
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import {
  Admin,
  adminPage,
  createGroup,
  expectNoSeriousA11yViolations,
  hydrated,
  invitationLinkFor,
  linkInMail,
  newPage,
} from "./support";

// This journey needs people "provisioned" by an import (no password yet); the
// import worker is not in this build, so the spec creates them directly in the
// database, like an import would. To do that without touching the shared
// server's database (whose first-run setup other specs rely on), it starts its
// own server on a fresh SQLite file it knows the path of.
//
// Needs the `sqlite3` command (or python3) to write to that file.

const admin: Admin = {
  organization: "Lakeside Academy",
  first: "Ada",
  last: "Lovelace",
  email: "ada@lakeside.example",
  password: "a long enough password",
};
const group = "Evening Class";

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "muster-e2e-activation-"));
const dbFile = path.join(dataDir, "muster.db");
const serverBin = process.env.MUSTER_SERVER_BIN ?? path.join(os.homedir(), ".cache/muster/target/debug/muster");
const siteRoot = process.env.MUSTER_SITE_ROOT ?? path.resolve(__dirname, "../../target/site");
let server: ChildProcess | undefined;
let baseURL = "";

/** Runs SQL against this spec's database file. */
function sql(statement: string) {
  try {
    execFileSync("sqlite3", ["-cmd", ".timeout 5000", dbFile, statement], { stdio: "pipe" });
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    // No sqlite3 command: Python's sqlite3 module does the same.
    execFileSync(
      "python3",
      ["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1], timeout=5); c.executescript(sys.argv[2]); c.commit()", dbFile, statement],
      { stdio: "pipe" },
    );
  }
}

/** A person as an import creates them: status provisioned, no password, a learner of the organization. */
function provision(email: string, first: string, last: string) {
  // Names are the organization's record of the person (its membership), not the account's.
  sql(`INSERT INTO users (email, status, created_at)
         VALUES ('${email}', 'provisioned', 1000);
       INSERT INTO memberships (organization_id, user_id, role, first_name, last_name, created_at)
         SELECT o.id, u.id, 'learner', '${first}', '${last}', 1000 FROM organizations o, users u
         WHERE o.name = '${admin.organization}' AND u.email = '${email}';`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

test.describe.configure({ mode: "serial" });
test.setTimeout(120_000);

test.beforeAll(async () => {
  const port = await freePort();
  baseURL = `http://127.0.0.1:${port}`;
  server = spawn(serverBin, [], {
    env: {
      ...process.env,
      DATABASE_URL: `sqlite://${dbFile}`,
      MUSTER_BIND: `127.0.0.1:${port}`,
      MUSTER_BASE_URL: baseURL,
      LEPTOS_SITE_ROOT: siteRoot,
      LEPTOS_OUTPUT_NAME: "muster",
      RUST_LOG: "warn",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const response = await fetch(`${baseURL}/`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`the server at ${baseURL} did not start`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
});

test.afterAll(async () => {
  server?.kill();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** The page of a browser of its own, on this spec's server. */
function visitorPage(browser: Browser, javaScriptEnabled = true): Promise<Page> {
  return newPage(browser, { baseURL, javaScriptEnabled });
}

/** This spec's admin, signed in (creating the organization on the first call). */
function lakesideAdmin(browser: Browser): Promise<Page> {
  return adminPage(browser, admin, { baseURL });
}

test("an admin sends the activation email; the person sets a password without JavaScript", async ({ browser }) => {
  const adminTab = await lakesideAdmin(browser);
  provision("lin@lakeside.example", "Lin", "Provisioned");

  await adminTab.goto("/admin/people?status=provisioned");
  const row = adminTab.getByRole("row", { name: /Lin Provisioned/ });
  await expect(row).toContainText("Not activated");
  await expectNoSeriousA11yViolations(adminTab);
  await row.getByRole("button", { name: "Send activation email to Lin Provisioned" }).click();
  await expect(adminTab.getByText("Sent the activation email.")).toBeVisible();
  await expect(row.getByRole("button", { name: "Resend activation email to Lin Provisioned" })).toBeVisible();

  const link = await linkInMail(adminTab, {
    to: "lin@lakeside.example",
    subject: /set your password/,
    link: /^http:\/\/127\.0\.0\.1:\d+\/activate\/[0-9a-f]{64}$/,
    count: 1,
  });

  // Accessibility is checked in a browser with JavaScript (axe runs in the page);
  // looking at the page does not use the link up.
  const checker = await visitorPage(browser);
  await checker.goto(link);
  await expect(checker.getByRole("heading", { name: "Welcome, Lin" })).toBeVisible();
  await expectNoSeriousA11yViolations(checker);
  await checker.context().close();

  const learner = await visitorPage(browser, false);
  const response = await learner.goto(link);
  expect(response!.headers()["referrer-policy"]).toBe("no-referrer");
  await expect(learner.getByRole("heading", { name: "Welcome, Lin" })).toBeVisible();
  await expect(learner.getByText(`${admin.organization} has created a Muster account for lin@lakeside.example.`)).toBeVisible();
  await learner.getByLabel("Password", { exact: true }).fill("learner password 1");
  await learner.getByLabel("Password again").fill("learner password 2");
  await learner.getByRole("button", { name: "Activate account" }).click();
  await expect(learner.getByRole("alert")).toHaveText("The two passwords do not match. Type the same password twice.");
  await learner.getByLabel("Password", { exact: true }).fill("learner password 1");
  await learner.getByLabel("Password again").fill("learner password 1");
  await learner.getByRole("button", { name: "Activate account" }).click();
  await expect(learner).toHaveURL(new RegExp(`^${baseURL}/$`));
  await expect(learner.getByRole("heading", { name: "Welcome, Lin" })).toBeVisible();
  await expect(learner.getByText("Signed in as lin@lakeside.example.")).toBeVisible();

  // Single use.
  await learner.goto(link);
  await expect(learner.getByRole("heading", { name: "This activation link has already been used" })).toBeVisible();
  await learner.context().close();

  await adminTab.goto("/admin/people?search=lin");
  await expect(adminTab.getByRole("row", { name: /Lin Provisioned/ })).toContainText("Active");
  await adminTab.context().close();
});

test("activation emails go to a selection, or to everyone who has not activated", async ({ browser }) => {
  const adminTab = await lakesideAdmin(browser);
  provision("max@lakeside.example", "Max", "Provisioned");
  provision("sam@lakeside.example", "Sam", "Provisioned");
  provision("kim@lakeside.example", "Kim", "Provisioned");

  await adminTab.goto("/admin/people?status=provisioned");
  await expect(adminTab.getByRole("row", { name: /Kim Provisioned/ })).toBeVisible();
  const send = adminTab.getByRole("button", { name: /^Send activation emails/ });
  await expect(send).toBeDisabled();
  await adminTab.getByRole("checkbox", { name: "Select Max Provisioned" }).check();
  await adminTab.getByRole("checkbox", { name: "Select Sam Provisioned" }).check();
  await expect(send).toHaveText("Send activation emails (2 selected)");
  await send.click();
  await expect(adminTab.getByText("Sent 2 activation emails.")).toBeVisible();
  await expect(adminTab.getByRole("checkbox", { name: "Select Max Provisioned" })).not.toBeChecked();

  await adminTab.getByRole("button", { name: "Send to everyone who has not activated" }).click();
  await expect(adminTab.getByText("Sent 3 activation emails.")).toBeVisible();
  await expect(adminTab.getByRole("row", { name: /Kim Provisioned/ })).toContainText("email sent");
  await expectNoSeriousA11yViolations(adminTab);
  await adminTab.context().close();
});

test("an expired invitation link, and an expired activation link, say so", async ({ browser }) => {
  const adminTab = await lakesideAdmin(browser);
  await createGroup(adminTab, group);
  await adminTab.goto("/admin/invitations");
  await adminTab.getByLabel("Invite to group").selectOption({ label: group });
  await adminTab.getByLabel("Email addresses").fill("late@lakeside.example");
  await adminTab.getByRole("button", { name: "Send invitations" }).click();
  await expect(adminTab.getByRole("table", { name: "Invitation results" })).toContainText("Invited");
  const invitation = await invitationLinkFor(adminTab, "late@lakeside.example", 1);
  // Time passes: the invitation's expiry is now behind us.
  sql("UPDATE invitations SET expires_at = 1000 WHERE email = 'late@lakeside.example';");

  const learner = await visitorPage(browser);
  const response = await learner.goto(invitation);
  expect(response!.headers()["referrer-policy"]).toBe("no-referrer");
  await expect(learner.getByRole("heading", { name: "This invitation has expired" })).toBeVisible();
  await expect(learner.getByText(`Ask your contact at ${admin.organization} to send you a new invitation.`)).toBeVisible();
  await expectNoSeriousA11yViolations(learner);

  // The admin sees it expired and resends it from a selection; the new link works.
  await adminTab.goto("/admin/invitations?status=expired");
  await hydrated(adminTab);
  const list = adminTab.getByRole("table", { name: "Invitations" });
  await expect(list.getByRole("row", { name: /late@lakeside\.example/ })).toContainText("Expired");
  await adminTab.getByRole("checkbox", { name: "Select invitation of late@lakeside.example" }).check();
  await adminTab.getByRole("button", { name: "Resend selected (1)" }).click();
  await expect(adminTab.getByText("Resent 1 invitation.")).toBeVisible();
  await expectNoSeriousA11yViolations(adminTab);
  const fresh = await invitationLinkFor(adminTab, "late@lakeside.example", 2);
  expect(fresh).not.toBe(invitation);
  await learner.goto(fresh);
  await expect(learner.getByRole("heading", { name: `Join ${group}` })).toBeVisible();

  // An activation link past its expiry.
  const activation = await linkInMail(adminTab, {
    to: "kim@lakeside.example",
    subject: /set your password/,
    link: /^http:\/\/127\.0\.0\.1:\d+\/activate\/[0-9a-f]{64}$/,
    count: 1,
  });
  sql("UPDATE activation_tokens SET expires_at = 1000;");
  await learner.goto(activation);
  await expect(learner.getByRole("heading", { name: "This activation link has expired" })).toBeVisible();
  await expect(learner.getByText(`Ask your administrator at ${admin.organization} to send you a new activation email.`, { exact: false })).toBeVisible();
  await expectNoSeriousA11yViolations(learner);
  await learner.context().close();
  await adminTab.context().close();
});
