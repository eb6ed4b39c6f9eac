import { test, expect, Page } from "@playwright/test";
import { callServer, expectNoSeriousA11yViolations, hydrated, signInAdmin } from "./support";

// Undoing an import from its page: the dry run in words first, then the
// undo, its progress and its outcome in the import's history.
const group = "Undo Cohort";

async function groupId(page: Page): Promise<number> {
  const list = async () => (await (await callServer(page, "/api/groups/list")).json()) as { id: number; name: string }[];
  let found = (await list()).find((g) => g.name === group);
  if (!found) {
    const created = await callServer(page, "/api/groups/create", {
      name: group,
      description: "",
      default_expiry_days: "30",
      trainings: "",
    });
    expect(created.ok()).toBeTruthy();
    found = (await list()).find((g) => g.name === group);
  }
  return found!.id;
}

/** Starts an Invites import of `emails` through the server function scripts use. */
async function invitesImport(page: Page, emails: string[]): Promise<number> {
  const origin = new URL(page.url()).origin;
  const response = await page.request.post("/api/imports/create", {
    headers: { Origin: origin },
    data: {
      options: {
        kind: "invites", group_id: await groupId(page), contract_id: null, send_emails: false,
        auto_invite: false, expiry_days: null, source_name: "undo.csv",
      },
      payload: {
        kind: "invites",
        sheets: [{ name: "undo", headers: ["Email"], rows: emails.map((e, i) => ({ number: i + 2, cells: [e] })) }],
      },
      idempotency_key: `undo-spec-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`,
    },
  });
  expect(response.ok(), await response.text()).toBeTruthy();
  return Number(await response.text());
}

test("undo: the dry run says what it reverses, then the undo runs with progress and stays in the history", async ({ page }) => {
  await signInAdmin(page);
  const stamp = Date.now();
  const emails = [1, 2, 3].map((n) => `undo${n}-${stamp}@undo.example`);
  const id = await invitesImport(page, emails);

  await page.goto(`/admin/imports/${id}`);
  await expect(page.locator(".progress-panel[data-ready=true]")).toBeAttached();
  await expect(page.getByText("Completed", { exact: true })).toBeVisible({ timeout: 30_000 });
  await page.reload();
  await expect(page.locator(".progress-panel[data-ready=true]")).toBeAttached();

  // The dialog opens from the keyboard and says what the undo would do.
  await hydrated(page);
  const open = page.getByText("Undo this import…");
  await open.focus();
  await page.keyboard.press("Enter");
  const dryRun = page.locator("#undo-dry-run");
  await expect(dryRun).toHaveText("Cancels 3 pending invitations.");
  const undo = page.getByRole("button", { name: "Undo", exact: true });
  await expect(undo).toHaveAccessibleDescription("Cancels 3 pending invitations.");
  await expectNoSeriousA11yViolations(page);
  await undo.click();

  await expect(page.getByRole("status").filter({ hasText: "Cancelled 3 invitations" })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole("heading", { name: "Undone" })).toBeVisible();
  await expect(page.getByRole("progressbar", { name: "Undo progress" })).toHaveAttribute("value", "100");
  // Undone once: the page offers no second undo.
  await expect(page.getByText("Undo this import…")).toHaveCount(0);

  // Its invitations are cancelled.
  await page.goto(`/admin/invitations?import=${id}`);
  const list = page.getByRole("table", { name: "Invitations" });
  for (const email of emails) {
    await expect(list.getByRole("row", { name: new RegExp(email.replace(/\./g, "\\.")) })).toContainText("Cancelled");
  }
  await expectNoSeriousA11yViolations(page);
});
