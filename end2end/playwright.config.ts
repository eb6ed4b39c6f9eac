import { defineConfig } from "@playwright/test";
import * as os from "node:os";
import * as path from "node:path";

// A fresh SQLite database per run, so the first-run setup is always reachable.
const dataDir = path.join(os.tmpdir(), `muster-e2e-${process.pid}`);
const port = Number(process.env.MUSTER_E2E_PORT ?? 3100);
const serverBin = process.env.MUSTER_SERVER_BIN ?? path.join(os.homedir(), ".cache/muster/target/debug/muster");
const siteRoot = process.env.MUSTER_SITE_ROOT ?? path.resolve(__dirname, "../target/site");

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [{ name: "chromium", use: { browserName: "chromium" } }],
  webServer: {
    command: `rm -rf ${dataDir} && mkdir -p ${dataDir} && exec ${serverBin}`,
    url: `http://127.0.0.1:${port}/`,
    reuseExistingServer: false,
    timeout: 60_000,
    env: {
      DATABASE_URL: `sqlite://${dataDir}/muster.db`,
      MUSTER_BIND: `127.0.0.1:${port}`,
      MUSTER_BASE_URL: `http://127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: siteRoot,
      LEPTOS_OUTPUT_NAME: "muster",
      RUST_LOG: "warn",
    },
  },
});
