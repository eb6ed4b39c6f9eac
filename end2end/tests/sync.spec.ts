import { test, expect, Page } from "@playwright/test";
import { callServer, expectNoSeriousA11yViolations, signInAdmin } from "./support";

// Sync imports: "this file is the whole group". The dry run lists who would
// leave; a sync that removes more than the organization's share of the
// group asks for the number of people leaving; through the API it waits
// for approval, and the import's page approves or discards it.
const group = "Sync Cohort";

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

async function createImport(page: Page, emails: string[], sync: boolean): Promise<number> {
  const origin = new URL(page.url()).origin;
  const response = await page.request.post("/api/imports/create", {
    headers: { Origin: origin },
    data: {
      options: {
        kind: "invites", group_id: await groupId(page), contract_id: null, send_emails: false,
        auto_invite: false, expiry_days: null, source_name: "sync.csv", sync,
      },
      payload: {
        kind: "invites",
        sheets: [{ name: "sync", headers: ["Email"], rows: emails.map((e, i) => ({ number: i + 2, cells: [e] })) }],
      },
      idempotency_key: `sync-spec-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`,
    },
  });
  expect(response.ok(), await response.text()).toBeTruthy();
  return Number(await response.text());
}

async function status(page: Page, id: number): Promise<string> {
  const response = await callServer(page, "/api/imports/get", { id: String(id) });
  return (await response.json()).status;
}

test("sync: the dry run lists who leaves, Confirm asks for the number, and a paused sync is discarded in place", async ({ page }) => {
  await signInAdmin(page);
  const stamp = Date.now();
  const people = Array.from({ length: 10 }, (_, n) => `sync${n}-${stamp}@sync.example`);
  // The group: whoever earlier runs of this spec left, and ten people invited now.
  const seeded = await createImport(page, people, false);
  await expect.poll(() => status(page, seeded), { timeout: 30_000 }).toBe("completed");

  await page.goto("/admin/imports/new");
  await expect(page.locator("form.wizard[data-ready=true]")).toBeAttached();
  await page.getByLabel("Group", { exact: true }).selectOption({ label: group });
  const sync = page.getByLabel("This file is the whole group: remove people who are not in it");
  await sync.check();
  await expect(sync).toBeChecked();
  await page.getByLabel(/Or paste the list/).fill(`Email\n${people[0]}\n`);
  await page.getByRole("button", { name: "Check rows" }).click();
  await expect(page.locator(".totals")).toContainText("1 ready");
  await page.getByRole("button", { name: /Dry run/ }).click();

  const leaving = page.getByRole("region", { name: "Who would leave" });
  await expect(leaving).toContainText(`from ${group}`);
  await expect(leaving.getByRole("list", { name: `Leaving ${group}` })).toContainText(people[9]);
  await expect(leaving.getByRole("list", { name: `Leaving ${group}` })).not.toContainText(people[0]);
  const count = Number((await leaving.textContent())!.match(/removes ([\d,]+) people/)![1].replace(/,/g, ""));
  expect(count).toBeGreaterThanOrEqual(9);
  await expectNoSeriousA11yViolations(page);

  await page.getByRole("button", { name: "Import…" }).click();
  const dialog = page.getByRole("dialog", { name: "Confirm the import" });
  await expect(dialog).toContainText(`This sync removes ${count} people`);
  const confirm = dialog.getByRole("button", { name: "Confirm" });
  const typed = dialog.getByLabel("Number of people who will leave");
  await expect(typed).toBeFocused();
  await expect(confirm).toBeDisabled();
  await typed.fill(String(count - 1));
  await expect(confirm).toBeDisabled();
  await typed.fill(String(count));
  await expect(confirm).toBeEnabled();
  await confirm.click();
  await expect(page).toHaveURL(/\/admin\/imports\/\d+$/);
  await expect(page.getByText("Completed", { exact: true })).toBeVisible({ timeout: 30_000 });

  // Through the API, a sync that removes everyone waits for approval.
  const paused = await createImport(page, [`nobody-${stamp}@sync.example`], true);
  expect(await status(page, paused)).toBe("needs_approval");
  await page.goto(`/admin/imports/${paused}`);
  await expect(page.locator(".progress-panel[data-ready=true]")).toBeAttached();
  await expect(page.getByText("Needs approval", { exact: true })).toBeVisible();
  await expect(page.getByRole("button", { name: "Approve: remove 1 person" })).toBeVisible();
  await expectNoSeriousA11yViolations(page);
  await page.getByRole("button", { name: "Discard this sync" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Discarded: nothing changed." })).toBeVisible();
  await expect(page.getByText("Cancelled", { exact: true })).toBeVisible();
  expect(await status(page, paused)).toBe("cancelled");
});
