import { test, expect, Page, Locator } from "@playwright/test";
import { callServer, expectNoSeriousA11yViolations, newContext, signInAdmin } from "./support";

// Issue #14: the review grid fits its box at 1280 px and says each row's problem
// in the row; problems are filtered by type and fixed in bulk; the keyboard edits
// like a spreadsheet; the wizard shows only the options of the chosen kind, blocks
// a seat shortfall and keeps what was typed; the import and invitation pages
// answer every action in place.
const group = "Review Cohort";
test.use({ viewport: { width: 1280, height: 900 } });
test.describe.configure({ mode: "serial" });
test.setTimeout(120_000);

async function ensureGroup(page: Page) {
  const groups = await callServer(page, "/api/groups/list");
  if ((await groups.text()).includes(group)) return;
  const created = await callServer(page, "/api/groups/create", {
    name: group,
    description: "",
    default_expiry_days: "14",
    trainings: "Welcome",
  });
  expect(created.ok()).toBeTruthy();
}

async function openWizard(page: Page, kind?: string) {
  await page.goto("/admin/imports/new");
  await expect(page.locator("form.wizard[data-ready=true]")).toBeAttached();
  if (kind) await page.getByLabel("What are you importing?").selectOption({ label: kind });
}

async function chooseGroup(page: Page) {
  await page.getByLabel("Group", { exact: true }).selectOption({ label: group });
}

async function paste(page: Page, text: string) {
  await page.getByLabel(/Or paste the list/).fill(text);
  await page.getByRole("button", { name: "Check rows" }).click();
  await expect(page.locator(".totals").first()).toContainText("rows");
}

async function ensureContract(page: Page, name: string, seats: number) {
  const contracts = await callServer(page, "/api/contracts/list");
  if ((await contracts.text()).includes(name)) return;
  const created = await callServer(page, "/api/contracts/create", { name, seat_limit: String(seats), ends_on: "" });
  expect(created.ok()).toBeTruthy();
}

function grid(page: Page): Locator {
  return page.getByRole("grid", { name: "Rows to import" });
}

/** Whether `inner` lies wholly inside `outer`'s box on screen. */
async function within(outer: Locator, inner: Locator): Promise<boolean> {
  const [o, i] = [await outer.boundingBox(), await inner.boundingBox()];
  return !!o && !!i && i.x >= o.x - 1 && i.x + i.width <= o.x + o.width + 1;
}

async function fitsSideways(locator: Locator): Promise<boolean> {
  return locator.evaluate((el) => el.scrollWidth <= el.clientWidth + 1);
}

const longEmail = "a.rather.long.address.for.a.learner@subdivision.example.org";

test("the grid fits at 1280 px for every kind and says each problem in its row", async ({ page }) => {
  await signInAdmin(page);
  await ensureGroup(page);

  // Invites: few columns, a long email shown whole, the problem in words.
  await openWizard(page, "Invites");
  await chooseGroup(page);
  await paste(page, `Email,Expiry Days\n${longEmail},10\nnot-an-email,5\nann@review.example,3\n`);
  await expect(fitsSideways(grid(page))).resolves.toBe(true);
  expect(await fitsSideways(page.locator("main"))).toBe(true);
  const long = page.getByRole("gridcell", { name: new RegExp(`Email: ${longEmail.replace(/\./g, "\\.")}$`) });
  expect(await long.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
  const problem = grid(page).getByRole("row", { name: /not-an-email/ }).getByRole("gridcell", { name: /^Error/ });
  await expect(problem).toContainText('"not-an-email" is not a valid email');
  await page.screenshot({ path: "test-results/wizard-invites-1280.png", fullPage: true });
  await expectNoSeriousA11yViolations(page);

  // Learners, after a dry run: the Will column is in view.
  await openWizard(page, "Learners");
  await chooseGroup(page);
  await paste(
    page,
    `Email,First Name,Last Name,External ID\n${longEmail},Alexandria,Montgomery-Smith,EXT-000123\nbo@review.example,Bo,Li,EXT-2\n`,
  );
  await page.getByRole("button", { name: /Dry run/ }).click();
  const will = page.getByRole("columnheader", { name: "Will" });
  await expect(will).toBeVisible();
  expect(await within(grid(page), will)).toBe(true);
  await expect(fitsSideways(grid(page))).resolves.toBe(true);
  await page.screenshot({ path: "test-results/wizard-learners-1280.png", fullPage: true });

  // People with every column: it may scroll sideways, but Row, Status and the
  // Delete buttons stay in view wherever it is scrolled.
  await openWizard(page, "People, add or update");
  await paste(
    page,
    "Email,First Name,Last Name,External ID,Username,Role,Parent Email,Instructor Email,Student Email\n" +
      `pat@review.example,Pat,Parent,P-1,,parent,,,${longEmail}\n` +
      `${longEmail},Sam,Student,S-1,,student,pat@review.example,ivy@review.example,\n` +
      "ivy@review.example,Ivy,Instructor,I-1,,instructor,,,\n",
  );
  const g = grid(page);
  await g.evaluate((el) => (el.scrollLeft = el.scrollWidth));
  for (const header of ["Row", "Status", "Actions"]) {
    expect(await within(g, g.getByRole("columnheader", { name: header }))).toBe(true);
  }
  expect(await within(g, g.getByRole("button", { name: "Delete row 2" }))).toBe(true);
  await expect(g.getByRole("columnheader", { name: "Student Email" })).toBeVisible();
  expect(await fitsSideways(page.locator("main"))).toBe(true);
  await page.screenshot({ path: "test-results/wizard-people-1280.png", fullPage: true });

  // Group members and program invitations, for the screenshots.
  await openWizard(page, "Group members");
  await paste(page, `Email,Groups\nmo@review.example,${group}\n`);
  await expect(fitsSideways(grid(page))).resolves.toBe(true);
  await page.screenshot({ path: "test-results/wizard-group-members-1280.png", fullPage: true });
  await ensureContract(page, "Roomy Contract", 50);
  await openWizard(page, "Invitations for a program and contract");
  await chooseGroup(page);
  await page.getByLabel("Contract", { exact: true }).selectOption({ label: "Roomy Contract (50 seats)" });
  await paste(page, `Full Name,Email,External ID\nMo Program,mo@review.example,M-1\n`);
  await expect(fitsSideways(grid(page))).resolves.toBe(true);
  await page.screenshot({ path: "test-results/wizard-program-invitations-1280.png", fullPage: true });
});

test("problems are filtered by type with counts and fixed in bulk", async ({ page }) => {
  await signInAdmin(page);
  await ensureGroup(page);
  await openWizard(page, "Invites");
  await chooseGroup(page);
  await paste(
    page,
    "Email\nAnn @Review.example\nmailto:BO@review.example\nnot-an-email\ncy@review.example\ncy@review.example\n",
  );
  const show = page.getByLabel("Show");
  await expect(show.locator("option")).toHaveText([
    "All rows (5)",
    "Rows with problems (4)",
    "Invalid email (3)",
    "Duplicate email (1)",
  ]);
  await show.selectOption({ label: "Invalid email (3)" });
  await expect(grid(page).locator(".grid-body [role=row]")).toHaveCount(3);

  // Tidying fixes the two that only had spaces, capitals or a mailto: prefix.
  await page.getByRole("button", { name: "Tidy 2 invalid emails (remove spaces, lowercase)" }).click();
  await expect(page.getByText("Tidied 2 emails; every one is valid now.")).toBeAttached();
  await expect(show.locator("option", { hasText: "Invalid email" })).toHaveText("Invalid email (1)");
  await expect(grid(page).locator(".grid-body [role=row]")).toHaveCount(1);

  // Removing asks first and says how many.
  await show.selectOption({ label: "Rows with problems (2)" });
  await page.getByRole("button", { name: "Remove the 2 rows shown…" }).click();
  await expect(page.getByText("Remove the 2 rows shown from the import?")).toBeVisible();
  await page.getByRole("button", { name: "Remove 2 rows" }).click();
  await expect(page.locator(".totals").first()).toContainText("3 rows");
  await expect(page.locator(".totals").first()).toContainText("0 with errors");
  await expectNoSeriousA11yViolations(page);
});

test("the keyboard edits like a spreadsheet: Enter saves and moves down, Tab right, Escape cancels", async ({ page }) => {
  await signInAdmin(page);
  await ensureGroup(page);
  await openWizard(page, "Learners");
  await chooseGroup(page);
  await paste(page, "Email,First Name,Last Name\nbad-one,Ann,Ames\nbad-two,Bo,Berg\nok@review.example,Cy,Cole\n");
  await expect(page.getByText("while editing, Enter saves and moves down, Tab saves and moves right, Escape cancels")).toBeVisible();

  const first = page.getByRole("gridcell", { name: /^Row 2, Email: bad-one/ });
  await first.click();
  await first.press("Enter");
  const editor = page.getByLabel("Edit Row 2, Email");
  await expect(editor).toBeFocused();
  await editor.fill("ann@review.example");
  await editor.press("Enter");
  // Saved, and the editor did not open again: the cell below is active.
  await expect(page.locator(".grid .cell-input")).toHaveCount(0);
  await expect(page.getByRole("gridcell", { name: /^Row 2, Email: ann@review\.example$/ })).toBeVisible();
  const below = page.getByRole("gridcell", { name: /^Row 3, Email: bad-two/ });
  await expect(below).toBeFocused();

  // Tab saves and moves right.
  await below.press("Enter");
  const second = page.getByLabel("Edit Row 3, Email");
  await second.fill("bo@review.example");
  await second.press("Tab");
  await expect(page.getByRole("gridcell", { name: /^Row 3, First Name: Bo$/ })).toBeFocused();
  await expect(page.getByRole("gridcell", { name: /^Row 3, Email: bo@review\.example$/ })).toBeVisible();

  // Escape cancels.
  await page.keyboard.press("Enter");
  const name = page.getByLabel("Edit Row 3, First Name");
  await name.fill("Changed");
  await name.press("Escape");
  await expect(page.getByRole("gridcell", { name: /^Row 3, First Name: Bo$/ })).toBeFocused();
  await expect(page.locator(".totals").first()).toContainText("0 with errors");
});

test("the wizard shows only the options of the chosen kind, in words that say what happens", async ({ page }) => {
  await signInAdmin(page);
  await openWizard(page, "Invites");
  await expect(page.getByLabel("Invitations expire after (days)")).toBeVisible();
  await expect(page.getByLabel("Email each person their invitation link")).toBeChecked();

  await page.getByLabel("What are you importing?").selectOption({ label: "Learners" });
  await expect(page.getByLabel("Invitations expire after (days)")).toHaveCount(0);
  await expect(page.getByText("Send invitation emails after import")).toHaveCount(0);
  await expect(page.getByLabel("Email each new person a link to set their password")).toBeVisible();

  await page.getByLabel("What are you importing?").selectOption({ label: "People, add or update" });
  await expect(page.getByLabel("Invitations expire after (days)")).toHaveCount(0);
  await expect(page.getByText("Send invitation emails after import")).toHaveCount(0);
  await expect(page.getByLabel(/Email each new person a link to set their password/)).toBeVisible();
  await expectNoSeriousA11yViolations(page);
});

test("a seat shortfall blocks the import and says how many rows to remove", async ({ page }) => {
  await signInAdmin(page);
  await ensureContract(page, "Tiny Contract", 1);
  await ensureGroup(page);
  await openWizard(page, "Invitations for a program and contract");
  await chooseGroup(page);
  await page.getByLabel("Contract", { exact: true }).selectOption({ label: "Tiny Contract (1 seats)" });
  await paste(page, "Full Name,Email,External ID\nAda One,ada1@seats.example,A1\nBen Two,ben2@seats.example,B2\nCy Three,cy3@seats.example,C3\n");
  await page.getByRole("button", { name: /Dry run/ }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Tiny Contract has 1 seats left" })).toContainText(
    "Remove 2 rows that take a seat, or raise the seat limit of Tiny Contract",
  );
  await expect(page.getByRole("button", { name: "Import…" })).toBeDisabled();
});

test("the wizard keeps what was typed after an error, names the dropped file and shows the engine's notes", async ({ page, browser }) => {
  await signInAdmin(page);
  await ensureGroup(page);

  // Without JavaScript: a refused upload comes back with the choices and the list.
  const state = await page.context().storageState();
  const context = await newContext(browser, { javaScriptEnabled: false, storageState: state });
  const noJs = await context.newPage();
  await noJs.goto("/admin/imports/new");
  await noJs.getByLabel("What are you importing?").selectOption({ label: "Invites" });
  await noJs.getByLabel("Group", { exact: true }).selectOption({ label: group });
  await noJs.getByLabel("Invitations expire after (days)").fill("9");
  await noJs.getByLabel("Email each person their invitation link").uncheck();
  // No Email column: refused by the server.
  await noJs.getByLabel(/Or paste the list/).fill("Contact\nkept@review.example\n");
  await noJs.getByRole("button", { name: "Check rows" }).click();
  await expect(noJs.getByRole("alert")).toContainText("Email");
  await expect(noJs.getByLabel(/Or paste the list/)).toHaveValue("Contact\nkept@review.example\n");
  await expect(noJs.getByLabel("Invitations expire after (days)")).toHaveValue("9");
  await expect(noJs.getByLabel("Group", { exact: true })).toHaveValue(/\d+/);
  await expect(noJs.getByLabel("Email each person their invitation link")).not.toBeChecked();
  await context.close();

  // With JavaScript: a list the check refuses stays as typed, and so do the options.
  await openWizard(page, "Invites");
  await chooseGroup(page);
  await page.getByLabel("Invitations expire after (days)").fill("11");
  await page.getByLabel(/Or paste the list/).fill("Email\n");
  await page.getByRole("button", { name: "Check rows" }).click();
  await expect(page.getByRole("alert")).toContainText("has a header row but no people below it");
  await expect(page.getByLabel(/Or paste the list/)).toHaveValue("Email\n");
  await expect(page.getByLabel("Invitations expire after (days)")).toHaveValue("11");

  // The dropped file is named and the engine's notes are shown.
  const dataTransfer = await page.evaluateHandle(() => {
    const dt = new DataTransfer();
    dt.items.add(
      new File(["Spring roster\nEmail,Notes\nnote@review.example,likes tea\n"], "spring-roster.csv", { type: "text/csv" }),
    );
    return dt;
  });
  await page.locator(".drop-zone").dispatchEvent("drop", { dataTransfer });
  await expect(page.getByRole("status").filter({ hasText: "Chosen: spring-roster.csv" })).toBeVisible();
  const notes = page.locator(".notes");
  await expect(notes).toContainText("Skipped 1 title row above the header.");
  await expect(notes).toContainText('Column "Notes"');
  await expect(page.locator(".totals").first()).toContainText("1 ready");
});

test("a finished import speaks in the past tense; the list has a group column and fits", async ({ page }) => {
  await signInAdmin(page);
  await ensureGroup(page);
  await openWizard(page, "Invites");
  await chooseGroup(page);
  await paste(page, "Email\npast1@review.example\npast2@review.example\n");
  await page.getByRole("button", { name: /Dry run/ }).click();
  await page.getByRole("button", { name: "Import…" }).click();
  await page.getByRole("dialog", { name: "Confirm the import" }).getByRole("button", { name: "Confirm" }).click();
  await expect(page).toHaveURL(/\/admin\/imports\/\d+$/);
  await expect(page.getByText("Completed", { exact: true })).toBeVisible({ timeout: 30_000 });
  await expect(page.getByText("Sent 2 invitation emails", { exact: false })).toBeVisible();
  await expect(page.getByText("Sends 2 invitation emails", { exact: false })).toHaveCount(0);

  await page.goto("/admin/imports");
  const table = page.getByRole("table", { name: "Imports, newest first" });
  await expect(table.getByRole("columnheader", { name: "Group" })).toBeVisible();
  await expect(table.getByRole("row").nth(1)).toContainText(group);
  // Each date is on one line: its text makes a single box.
  for (const date of await table.locator("td.date").all()) {
    const lines = await date.evaluate((el) => {
      const range = document.createRange();
      range.selectNodeContents(el);
      return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
    });
    expect(lines).toBe(1);
  }
  expect(await fitsSideways(page.locator("main"))).toBe(true);
  await expectNoSeriousA11yViolations(page);
});

test("cancelling an import asks first and says how many rows; the answer is in place", async ({ page }) => {
  await signInAdmin(page);
  await ensureGroup(page);
  // A draft, through the no-JavaScript upload, so it waits for confirmation.
  const state = await page.context().storageState();
  const context = await page.context().browser()!.newContext({
    baseURL: test.info().project.use.baseURL,
    javaScriptEnabled: false,
    storageState: state,
  });
  const noJs = await context.newPage();
  await noJs.goto("/admin/imports/new");
  await noJs.getByLabel("Group", { exact: true }).selectOption({ label: group });
  await noJs.getByLabel(/Or paste the list/).fill("Email\ndraft1@review.example\ndraft2@review.example\n");
  await noJs.getByRole("button", { name: "Check rows" }).click();
  await expect(noJs).toHaveURL(/\/admin\/imports\/\d+$/);
  const draft = noJs.url();
  await context.close();

  // The page's buttons send their requests from a module fetched on the first press.
  const requestModules: string[] = [];
  page.on("request", (request) => {
    const path = new URL(request.url()).pathname;
    if (/^\/pkg\/split_+import_requests_\d+/.test(path)) requestModules.push(path);
  });
  await page.goto(draft);
  await expect(page.locator(".progress-panel[data-ready=true]")).toBeAttached();
  expect(requestModules, "the buttons' module waits for a press").toEqual([]);
  await page.getByText("Discard…").click();
  await expect(page.getByText("Discard this import? None of its 2 rows will be imported.")).toBeVisible();
  await page.getByRole("button", { name: "Yes, discard it" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Discarded: nothing from this file will be imported." })).toBeVisible();
  expect(requestModules, "fetched on the first press").toHaveLength(1);
  await expect(page.getByText("Cancelled", { exact: true })).toBeVisible();
  await expectNoSeriousA11yViolations(page);
});

test("invitations: resend and cancel answer in place; cancelling asks first and says how many", async ({ page }) => {
  await signInAdmin(page);
  await ensureGroup(page);
  // The buttons' requests are a module of their own (app::pages::invitations::invitation_requests),
  // fetched on the first press, not with the page.
  const requestModules: string[] = [];
  page.on("request", (request) => {
    const path = new URL(request.url()).pathname;
    if (/^\/pkg\/split_+invitation_requests_\d+/.test(path)) requestModules.push(path);
  });
  await page.goto("/admin/invitations");
  await expect(page.locator("section.bulk[data-ready=true]")).toBeAttached();
  await page.getByLabel("Invite to group").selectOption({ label: group });
  await page.getByLabel("Email addresses").fill("res1@review.example, res2@review.example, res3@review.example");
  expect(requestModules, "the buttons' module waits for a press").toEqual([]);
  await page.getByRole("button", { name: "Send invitations" }).click();
  const list = page.getByRole("table", { name: "Invitations" });
  await expect(list.getByRole("row", { name: /res1@review\.example/ })).toContainText("Pending");
  expect(requestModules, "fetched on the first press").toHaveLength(1);

  await page.getByRole("button", { name: "Resend to res1@review.example" }).click();
  await expect(page.locator("#invitations-said")).toHaveText(
    "Invitation to res1@review.example resent; the link in the earlier email no longer works.",
  );
  await expect(list.getByRole("row", { name: /res1@review\.example/ })).toContainText("Resent just now");
  expect(requestModules, "and only then").toHaveLength(1);
  // The invite's results stay while the list's buttons answer.
  await expect(page.getByRole("table", { name: "Invitation results" })).toContainText("res3@review.example");

  await list.getByRole("row", { name: /res2@review\.example/ }).getByText("Cancel…").click();
  await expect(page.getByText("Cancel the invitation of res2@review.example? Its link stops working.")).toBeVisible();
  await page.getByRole("button", { name: "Yes, cancel it" }).click();
  await expect(page.locator("#invitations-said")).toHaveText("Invitation to res2@review.example cancelled; its link no longer works.");
  await expect(list.getByRole("row", { name: /res2@review\.example/ })).toContainText("Cancelled");

  await page.getByRole("checkbox", { name: "Select invitation of res3@review.example" }).check();
  const confirmBox = page.getByRole("group", { name: "Confirm cancelling" });
  await expect(confirmBox, "the question waits for the button").toBeHidden();
  await page.getByRole("button", { name: "Cancel selected (1)…" }).click();
  await expect(page.getByText("Cancel the 1 selected invitation? Its link stops working.")).toBeVisible();
  await page.getByRole("button", { name: "Keep them" }).click();
  await expect(confirmBox).toBeHidden();
  await page.getByRole("button", { name: "Cancel selected (1)…" }).click();
  await page.getByRole("button", { name: "Yes, cancel them" }).click();
  await expect(page.locator("#invitations-said")).toContainText("Cancelled 1 invitation");
  await expect(confirmBox).toBeHidden();
  expect(await fitsSideways(page.locator("main"))).toBe(true);
  await expectNoSeriousA11yViolations(page);
});
