import { test, expect, Page, Locator } from "@playwright/test";
import { callServer, expectNoSeriousA11yViolations, hydrated, newContext, signInAdmin } from "./support";
import * as path from "node:path";

// The import wizard: rows checked in the browser (the engine in WebAssembly),
// fixed in place, dry-run on the server, confirmed once; and the same flow
// without JavaScript.
const group = "Import Cohort";

/** The group every import here goes into, created once through the server function. */
async function ensureGroup(page: Page) {
  const groups = await callServer(page, "/api/groups/list");
  if ((await groups.text()).includes(group)) return;
  const created = await callServer(page, "/api/groups/create", {
    name: group,
    description: "",
    default_expiry_days: "21",
    trainings: "Welcome",
  });
  expect(created.ok()).toBeTruthy();
}

async function importCount(page: Page): Promise<number> {
  const list = await callServer(page, "/api/imports/list");
  return (await list.json()).length;
}

async function openWizard(page: Page) {
  await page.goto("/admin/imports/new");
  await expect(page.getByRole("heading", { name: "New import" })).toBeVisible();
  // Hydrated: the check runs in the browser from here on.
  await expect(page.locator("form.wizard[data-ready=true]")).toBeAttached();
  // The search box narrows the groups to pick from.
  await page.getByLabel("Find a group by name").fill("import coh");
  await expect(page.getByLabel("Group", { exact: true }).locator("option")).toHaveText(["Choose a group", group]);
  await page.getByLabel("Group", { exact: true }).selectOption({ label: group });
}

function bodyRows(page: Page): Locator {
  return page.getByRole("grid", { name: "Rows to import" }).locator(".grid-body [role=row]");
}

function csv(rows: number, start = 0): string {
  const lines = ["Email,Expiry Days"];
  for (let i = start; i < start + rows; i++) lines.push(`learner${i}@bulk.example,${(i % 30) + 1}`);
  return lines.join("\n") + "\n";
}

test("paste, fix a cell, filter, dry run, and a double-clicked Confirm makes one import", async ({ page }) => {
  await signInAdmin(page);
  await ensureGroup(page);
  const before = await importCount(page);
  await openWizard(page);
  await page
    .getByLabel(/Or paste the list/)
    .fill("Email\nann@paste.example\nnot-an-email\nbob@paste.example\n");
  await page.getByRole("button", { name: "Check rows" }).click();
  const totals = page.locator(".totals");
  await expect(totals).toContainText("3 rows");
  await expect(totals).toContainText("1 with errors");

  // Only the problem row is listed when filtered.
  await page.getByLabel("Show").selectOption({ label: "Rows with problems (1)" });
  await expect(bodyRows(page)).toHaveCount(1);
  const bad = page.getByRole("gridcell", { name: /Row 3, Email: not-an-email\./ });
  await expect(bad).toHaveClass(/cell-error/);

  // Fix it in place: the row is checked again at once.
  await bad.dblclick();
  const editor = page.getByLabel("Edit Row 3, Email");
  await editor.fill("cy@paste.example");
  await editor.press("Enter");
  await expect(totals).toContainText("0 with errors");
  await expect(bodyRows(page)).toHaveCount(0);
  await page.getByLabel("Show").selectOption({ label: "All rows (3)" });
  await expect(bodyRows(page)).toHaveCount(3);
  await expectNoSeriousA11yViolations(page);

  await page.getByRole("button", { name: /Dry run/ }).click();
  await expect(page.getByRole("columnheader", { name: "Will" })).toBeVisible();
  await expect(page.getByText("sends 3 invitation emails", { exact: false })).toBeVisible();
  await expect(page.getByRole("gridcell", { name: "Invite" })).toHaveCount(3);

  await page.getByRole("button", { name: "Import…" }).click();
  const dialog = page.getByRole("dialog", { name: "Confirm the import" });
  await expect(dialog).toContainText(/sends 3 invitation emails/i);
  await dialog.getByRole("button", { name: "Confirm" }).dblclick();
  await expect(page).toHaveURL(/\/admin\/imports\/\d+$/);
  await expect(page.getByText("Completed", { exact: true })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByText("3 of 3 rows processed")).toBeVisible();
  expect(await importCount(page)).toBe(before + 1);
  await expectNoSeriousA11yViolations(page);
});

test("a file by the picker, by drag and drop, and a header remapped by hand", async ({ page }) => {
  await signInAdmin(page);
  await ensureGroup(page);
  await openWizard(page);
  await page.getByLabel("Drop a file here, or choose one").setInputFiles({
    name: "roster.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(csv(25)),
  });
  await expect(page.locator(".totals")).toContainText("25 rows");
  await expect(page.locator(".totals")).toContainText("25 ready");

  // Drag and drop a file whose email column is called "Contact".
  const dataTransfer = await page.evaluateHandle(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(["Contact\nzed@drop.example\nyan@drop.example\n"], "dropped.csv", { type: "text/csv" }));
    return dt;
  });
  await page.locator(".drop-zone").dispatchEvent("drop", { dataTransfer });
  await expect(page.locator(".totals")).toContainText("2 rows");
  await expect(page.getByText('The required column "Email" is missing.')).toBeVisible();

  await page.getByLabel("“Contact”").selectOption({ label: "Email" });
  await expect(page.locator(".totals")).toContainText("2 ready");
  await expect(page.getByRole("gridcell", { name: /Row 2, Email: zed@drop\.example$/ })).toBeVisible();
});

test("files are read in the engine's worker, which only the wizard loads", async ({ page, request }) => {
  await signInAdmin(page);
  await ensureGroup(page);
  const fetched: { path: string; cacheControl: string; encoding: string }[] = [];
  page.context().on("response", async (response) => {
    const path = new URL(response.url()).pathname;
    if (path.startsWith("/pkg/")) {
      const headers = await response.allHeaders();
      fetched.push({ path, cacheControl: headers["cache-control"] ?? "", encoding: headers["content-encoding"] ?? "" });
    }
  });
  await page.goto("/admin/groups");
  await hydrated(page);
  await page.waitForLoadState("networkidle");
  const bundle = fetched.map((f) => f.path).find((p) => /^\/pkg\/muster\.[A-Za-z0-9_-]{22}\.wasm$/.test(p));
  expect(bundle, "the page bundle was loaded").toBeTruthy();
  expect(fetched.filter((f) => f.path.includes("/engine.")), "other admin pages do not load the readers").toEqual([]);

  await openWizard(page);
  await expect.poll(() => fetched.filter((f) => /^\/pkg\/engine\.[A-Za-z0-9_-]{22}\.(js|wasm)$/.test(f.path)).length).toBe(2);
  for (const file of fetched.filter((f) => f.path.includes("/engine."))) {
    expect(file.cacheControl, file.path).toBe("public, max-age=31536000, immutable");
    expect(file.encoding, `${file.path} is sent compressed`).toMatch(/^(br|gzip)$/);
  }
  // The spreadsheet readers are in the worker's module and not in the page's bundle.
  const engine = fetched.find((f) => f.path.endsWith(".wasm") && f.path.includes("/engine."))!.path;
  const marker = "xl/workbook.xml";
  expect((await (await request.get(engine)).body()).includes(marker), "the worker reads XLSX").toBe(true);
  expect((await (await request.get(bundle!)).body()).includes(marker), "the page bundle has no XLSX reader").toBe(false);

  // The worker's refusal reaches the page in the engine's words; the next file still reads.
  await page.getByLabel("Drop a file here, or choose one").setInputFiles({
    name: "roster.xlsx",
    mimeType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    buffer: Buffer.from("Email\nnot@really.example\n"),
  });
  await expect(page.getByRole("alert").filter({ hasText: "the file is named .xlsx but its contents are not a spreadsheet" })).toBeVisible();
  const fixtures = path.join(__dirname, "../../core/tests/fixtures");
  await page.getByLabel("Drop a file here, or choose one").setInputFiles(path.join(fixtures, "zip_bomb.xlsx"));
  await expect(page.getByRole("alert").filter({ hasText: "deliberately inflated" })).toBeVisible();
  await page.getByLabel("Drop a file here, or choose one").setInputFiles(path.join(fixtures, "small.ods"));
  await expect(page.locator(".totals")).toContainText("1 ready");
  await page.getByLabel("Drop a file here, or choose one").setInputFiles({
    name: "roster.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(csv(3)),
  });
  await expect(page.locator(".totals")).toContainText("3 ready");

  // Another kind while a large file is still being read: that read's rows were going to be
  // checked for the old kind, so nothing of it may appear.
  await page.getByLabel("Drop a file here, or choose one").setInputFiles({
    name: "large.csv",
    mimeType: "text/csv",
    buffer: Buffer.from(csv(100_000)),
  });
  await page.getByLabel("What are you importing?").selectOption({ label: "Group members" });
  await expect(page.locator(".totals")).toHaveCount(0);
  // Long enough for the abandoned read and check to have finished (about a second here).
  await page.waitForTimeout(3_000);
  await expect(page.locator(".totals")).toHaveCount(0);
  await expect(page.getByRole("grid", { name: "Rows to import" })).toHaveCount(0);
});

test.describe("the preview benchmark", () => {
  // Papa Parse is injected into the page as an inline script to time it on
  // the same text; the page's Content-Security-Policy rightly forbids that.
  test.use({ bypassCSP: true });

  test("100,000 rows: the preview is ready, the totals are right and the grid stays small", async ({ page }) => {
    test.setTimeout(120_000);
    await signInAdmin(page);
    await ensureGroup(page);
    for (const rows of [10_000, 100_000]) {
      await openWizard(page);
      // As an admin's file would be: chosen once the wizard has its reader warmed up
      // and its later steps loaded (a person takes longer than that to pick a file).
      await expect(page.locator("form.wizard[data-tools-ready=true]")).toBeAttached();
      const text = csv(rows);
      // Long tasks on the page's own thread while the file is read (in the engine's
      // worker) and checked (on the page, in slices): printed, not asserted. Playwright
      // hands the file to the page as base64 and builds it there, in a task of its own
      // that ends with the input's change event; that task is the test's, not the wizard's.
      await page.evaluate(() => {
        const w = window as any;
        w.__longTasks = [];
        w.__changeAt = Infinity;
        document.addEventListener("change", () => (w.__changeAt = Math.min(w.__changeAt, performance.now())), { capture: true });
        new PerformanceObserver((list) =>
          w.__longTasks.push(...list.getEntries().map((e) => ({ start: e.startTime, end: e.startTime + e.duration }))),
        ).observe({ type: "longtask" });
      });
      await page.getByLabel("Drop a file here, or choose one").setInputFiles({
        name: `roster-${rows}.csv`,
        mimeType: "text/csv",
        buffer: Buffer.from(text),
      });
      const totals = page.locator(".totals");
      await expect(totals).toContainText(`${rows.toLocaleString("en-US")} rows`, { timeout: 60_000 });
      await expect(totals).toContainText(`${rows.toLocaleString("en-US")} ready`);
      // Timed once the preview is drawn, a moment after the totals show.
      await expect(totals).toHaveAttribute("data-ready-ms", /^\d+$/);
      const readyMs = Number(await totals.getAttribute("data-ready-ms"));
      const steps = await totals.getAttribute("data-steps");
      // The task in which the change event fired began with Playwright building the file;
      // the wizard's handler in it only posts the file to the worker.
      const { longTasks, handover } = await page.evaluate(() => {
        const w = window as any;
        const tasks: { start: number; end: number }[] = w.__longTasks;
        return {
          longTasks: tasks.filter((t) => t.start > w.__changeAt).map((t) => t.end - t.start),
          handover: tasks.filter((t) => t.start <= w.__changeAt).map((t) => t.end - t.start),
        };
      });

      // Only the visible window is in the DOM, wherever the grid is scrolled.
      expect(await bodyRows(page).count()).toBeLessThan(60);
      const grid = page.getByRole("grid", { name: "Rows to import" });
      await grid.evaluate((el) => (el.scrollTop = el.scrollHeight));
      await expect(page.getByRole("gridcell", { name: `Row ${rows + 1}, Email: learner${rows - 1}@bulk.example` })).toBeVisible();
      expect(await bodyRows(page).count()).toBeLessThan(60);

      // Papa Parse, parse only, on the same text in the same page.
      await page.addScriptTag({ path: path.join(__dirname, "../node_modules/papaparse/papaparse.min.js") });
      const papaMs = await page.evaluate((t) => {
        const started = performance.now();
        const result = (window as any).Papa.parse(t, { header: true, skipEmptyLines: true });
        if (result.data.length < 1) throw new Error("Papa Parse read nothing");
        return performance.now() - started;
      }, text);
      console.log(
        `preview of ${rows} rows: Muster (file chosen to preview drawn) ${readyMs.toFixed(0)} ms [${steps}]; ` +
          `Papa Parse (parse only) ${papaMs.toFixed(0)} ms; ratio ${(readyMs / papaMs).toFixed(2)}; ` +
          `the wizard's long tasks on the page's thread: ${longTasks.length}, longest ${Math.max(0, ...longTasks).toFixed(0)} ms ` +
          `(${longTasks.map((t) => t.toFixed(0)).join(", ") || "none"}); ` +
          `Playwright's file hand-over: ${handover.map((t) => t.toFixed(0)).join(", ") || "no long task"} ms`,
      );
    }
  });
});

test("without JavaScript: upload, read-only preview, confirm", async ({ browser, page }) => {
  await signInAdmin(page);
  await ensureGroup(page);
  const state = await page.context().storageState();
  const context = await newContext(browser, { javaScriptEnabled: false, storageState: state });
  const noJs = await context.newPage();
  await noJs.goto("/admin/imports/new");
  await noJs.getByLabel("Group", { exact: true }).selectOption({ label: group });
  await noJs.getByLabel("Drop a file here, or choose one").setInputFiles({
    name: "nojs.csv",
    mimeType: "text/csv",
    buffer: Buffer.from("Email\nnojs1@plain.example\nbroken\n"),
  });
  await noJs.getByRole("button", { name: "Check rows" }).click();
  await expect(noJs).toHaveURL(/\/admin\/imports\/\d+$/);
  await expect(noJs.getByText("Waiting for confirmation")).toBeVisible();
  await expect(noJs.getByRole("cell", { name: "nojs1@plain.example" })).toBeVisible();
  await expect(noJs.getByText('"broken" is not a valid email.', { exact: false })).toBeVisible();
  await noJs.getByRole("button", { name: "Confirm import" }).click();
  await expect(noJs).toHaveURL(/\/admin\/imports\/\d+$/);
  await expect(async () => {
    await noJs.reload();
    await expect(noJs.getByText("Completed with errors", { exact: true })).toBeVisible({ timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  // axe needs JavaScript; it checks the same page in the signed-in context that has it.
  const importPage = noJs.url();
  await context.close();
  await page.goto(importPage);
  await hydrated(page);
  await expectNoSeriousA11yViolations(page);

  // Fix and retry only the failed row, in the wizard.
  await page.getByRole("link", { name: "Fix and retry the failed rows" }).click();
  await expect(page.getByText("The 1 failed rows of import")).toBeVisible();
  const totals = page.locator(".totals");
  await expect(totals).toContainText("1 rows");
  await expect(totals).toContainText("1 with errors");
  await page.getByRole("gridcell", { name: /Row 2, Email: broken\./ }).dblclick();
  const editor = page.getByLabel("Edit Row 2, Email");
  await editor.fill("fixed@plain.example");
  await editor.press("Enter");
  await expect(totals).toContainText("1 ready");
  await page.getByRole("button", { name: /Dry run/ }).click();
  await page.getByRole("button", { name: "Import…" }).click();
  await page.getByRole("dialog", { name: "Confirm the import" }).getByRole("button", { name: "Confirm" }).click();
  await expect(page).toHaveURL(/\/admin\/imports\/\d+$/);
  await expect(page.getByText("Completed", { exact: true })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByText("1 of 1 rows processed")).toBeVisible();
});
