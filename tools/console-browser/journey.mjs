// The officer's journey in a real browser (Debian's Chromium driven by playwright-core),
// one phase per run against a live motcua-server: `receive` signs in, finds the citizen's
// dossier in the queue, receives it and requests a supplement; `approve` signs in, sees
// the citizen's answer, approves, attaches the signed decision and returns the result;
// `intake` files a walk-in citizen's dossier at the counter and prints the receipt;
// `reports` assigns and starts a field report; `admin` (an administrator) composes and
// cancels a push campaign and opens the staff accounts. The browser must report no error (a CSP violation,
// a missing resource); axe-core finds no serious or critical violation on the sign-in,
// queue and dossier pages, which are screenshotted into SCREENSHOTS. Run by the Rust test
// server/tests/browser.rs (`cargo xtask test --step browser`), which sets the environment.
import { createRequire } from "node:module";
import { mkdirSync, readFileSync } from "node:fs";
import assert from "node:assert/strict";

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through cargo xtask test --step browser`);
  return value;
};
const base = env("CONSOLE_URL");
const code = env("DOSSIER_CODE");
const phase = process.argv[2];
const shots = env("SCREENSHOTS");
mkdirSync(shots, { recursive: true });
const modules = createRequire(env("PLAYWRIGHT_DIR") + "/");
const { chromium } = modules("playwright-core");
// axe-core is evaluated through the DevTools protocol, which the page's CSP (no script at
// all) does not govern; the page itself stays script-free.
const axeSource = readFileSync(modules.resolve("axe-core/axe.min.js"), "utf8");

/** Fails on any serious or critical accessibility violation axe-core finds on the page. */
async function audit(page, name) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ["violations"] }));
  const bad = result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  assert.deepEqual(bad, [], `axe-core on the ${name} page`);
}

/**
 * Walk-in intake: from the menu, the procedure, the applicant's id, phone and name, the
 * form's answers (INTAKE_FIELDS: [input name, value], from the Rust test) and the scanned
 * papers (INTAKE_FILES: [input name, path]); then the receipt, printed (print media).
 */
async function intake(page) {
  await page.getByRole("link", { name: "Tiếp nhận trực tiếp" }).click();
  await page.getByLabel("Thủ tục công dân cần làm").selectOption(env("INTAKE_PROCEDURE"));
  await page.getByRole("button", { name: "Mở tờ khai" }).click();
  await page.locator("#citizen_id").fill(env("INTAKE_CITIZEN_ID"));
  await page.locator("#phone").fill(env("INTAKE_PHONE"));
  await page.locator("#full_name").fill("Lê Thị Quầy");
  for (const [name, value] of JSON.parse(env("INTAKE_FIELDS"))) {
    const input = page.locator(`[name="${name}"]`).first();
    const kind = await input.evaluate((e) => (e.tagName === "SELECT" ? "select" : e.type));
    if (kind === "checkbox") await input.check();
    else if (kind === "select") await input.selectOption(value);
    else await input.fill(value);
  }
  for (const [name, path] of JSON.parse(env("INTAKE_FILES"))) {
    await page.locator(`input[type=file][name="${name}"]`).setInputFiles(path);
  }
  await audit(page, "walk-in intake");
  await page.screenshot({ path: `${shots}/tiep-nhan.png`, fullPage: true });
  await page.getByRole("button", { name: "Tiếp nhận và in phiếu hẹn" }).click();
  await page.getByRole("heading", { name: "Giấy tiếp nhận hồ sơ và hẹn trả kết quả" }).waitFor();
  const receiptCode = (await page.locator("#receipt-code").textContent()).trim();
  assert.match(receiptCode, /^H26\.00-/);
  assert.match((await page.locator("#receipt-due").textContent()).trim(), /^\d{2}\/\d{2}\/\d{4}$/);
  assert.match((await page.locator("#receipt-verifier").textContent()).trim(), /^[A-Z2-9]{8}$/);
  await audit(page, "receipt");
  await page.emulateMedia({ media: "print" });
  assert.equal(await page.getByRole("button", { name: "Đăng xuất" }).isVisible(), false, "the print shows the receipt only");
  await page.screenshot({ path: `${shots}/phieu-hen.png`, fullPage: true });
  await page.emulateMedia({ media: "screen" });
  console.log(`receipt ${receiptCode}`);
}

const browser = await chromium.launch({ executablePath: env("CHROMIUM"), args: ["--no-sandbox"] });
const problems = [];
try {
  const page = await browser.newPage({ locale: "vi-VN" });
  page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
  page.on("pageerror", (e) => problems.push(String(e)));

  // Sign in by keyboard alone: the labelled fields, Enter to submit.
  await page.goto(`${base}/console/login`);
  if (phase === "receive") {
    await audit(page, "sign-in");
    await page.screenshot({ path: `${shots}/dang-nhap.png`, fullPage: true });
  }
  const admin = phase === "admin";
  await page.getByLabel("Số CCCD hoặc số điện thoại").fill(env(admin ? "ADMIN_LOGIN" : "OFFICER_LOGIN"));
  await page.getByLabel("Mật khẩu").fill(env(admin ? "ADMIN_PASSWORD" : "OFFICER_PASSWORD"));
  await page.getByLabel("Mật khẩu").press("Enter");
  await page.waitForURL(`${base}/console/queue`);
  const row = page.getByRole("link", { name: code });
  await row.waitFor();
  if (phase === "receive") {
    await audit(page, "queue");
    await page.screenshot({ path: `${shots}/hang-doi.png`, fullPage: true });
  }
  if (phase !== "intake" && phase !== "reports" && phase !== "admin") {
    await row.click();
    await page.getByRole("heading", { name: `Hồ sơ ${code}` }).waitFor();
  }

  if (phase === "intake") {
    await intake(page);
  } else if (phase === "admin") {
    // A push campaign composed for later in both languages, seen, then cancelled.
    await page.getByRole("link", { name: "Thông báo đẩy" }).click();
    await page.getByLabel("Tiêu đề (tiếng Việt)").fill("Lịch nghỉ Tết");
    await page.getByLabel("Tiêu đề (tiếng Anh)").fill("Tết holiday");
    await page.getByLabel("Nội dung (tiếng Việt)").fill("Trung tâm nghỉ từ ngày 14/2.");
    await page.getByLabel("Nội dung (tiếng Anh)").fill("The centre closes on 14 February.");
    await page.getByLabel("Một phường, xã").check();
    await page.getByLabel("Phường, xã", { exact: true }).selectOption("00070");
    await page.getByLabel("Giờ gửi (giờ Hà Nội; để trống: gửi ngay)").fill(env("CAMPAIGN_AT"));
    await page.getByRole("button", { name: "Tạo chiến dịch" }).click();
    await page.getByRole("cell", { name: "Chờ đến giờ gửi" }).waitFor();
    await audit(page, "campaigns");
    await page.screenshot({ path: `${shots}/thong-bao-day.png`, fullPage: true });
    await page.getByRole("button", { name: "Hủy chiến dịch Lịch nghỉ Tết" }).click();
    await page.getByRole("cell", { name: "Đã hủy" }).waitFor();
    // Staff accounts: an officer moved to another branch.
    await page.getByRole("link", { name: "Tài khoản cán bộ" }).click();
    await page.getByRole("heading", { name: "Tài khoản cán bộ" }).waitFor();
    await audit(page, "staff accounts");
    await page.screenshot({ path: `${shots}/tai-khoan.png`, fullPage: true });
  } else if (phase === "reports") {
    // A field report: from the menu, assigned and started, its status shown each time.
    await page.getByRole("link", { name: "Phản ánh", exact: true }).click();
    await page.getByRole("link", { name: env("REPORT_CODE") }).click();
    await page.getByRole("button", { name: "Phân công" }).click();
    await page.locator("#report-status", { hasText: "Đã phân công" }).waitFor();
    await page.getByRole("button", { name: "Bắt đầu xử lý" }).click();
    await page.locator("#report-status", { hasText: "Đang xử lý" }).waitFor();
    await audit(page, "field report");
    await page.screenshot({ path: `${shots}/phan-anh.png`, fullPage: true });
  } else if (phase === "receive") {
    assert.equal(await page.getByRole("button", { name: "Phê duyệt" }).count(), 0, "no approval before reception");
    await page.getByRole("button", { name: "Tiếp nhận" }).click();
    await page.locator("#status", { hasText: "Đã tiếp nhận" }).waitFor();
    await page.getByLabel("Giấy tờ cần bổ sung").fill("Bản sao giấy khai sinh rõ nét hơn");
    await page.getByRole("button", { name: "Yêu cầu bổ sung" }).click();
    await page.locator("#status", { hasText: "Yêu cầu bổ sung" }).waitFor();
    await audit(page, "dossier");
    await page.screenshot({ path: `${shots}/ho-so.png`, fullPage: true });
  } else if (phase === "approve") {
    await page.getByRole("cell", { name: "Đã bổ sung qua ứng dụng" }).waitFor();
    await page.getByRole("button", { name: "Phê duyệt" }).click();
    await page.locator("#status", { hasText: "Đã phê duyệt" }).waitFor();
    // The signed decision, attached through the labelled file input, then the result returned.
    const decision = Buffer.from("%PDF-1.7\n% Quyet dinh da ky\n%%EOF\n");
    await page.getByLabel("Quyết định hoặc giấy chứng nhận đã ký (PDF, JPEG, PNG)")
      .setInputFiles({ name: "Quyết định đã ký.pdf", mimeType: "application/pdf", buffer: decision });
    await page.getByRole("button", { name: "Đính kèm văn bản kết quả" }).click();
    await page.getByRole("link", { name: "Quyết định đã ký.pdf" }).waitFor();
    await audit(page, "dossier with its result");
    await page.screenshot({ path: `${shots}/van-ban-ket-qua.png`, fullPage: true });
    await page.getByRole("button", { name: "Trả kết quả" }).click();
    await page.locator("#status", { hasText: "Đã trả kết quả" }).waitFor();
    assert.equal(await page.getByLabel("Quyết định hoặc giấy chứng nhận đã ký (PDF, JPEG, PNG)").count(), 0,
      "no new result document once the result is returned");
    // The branch's figures: the decision counted, charts drawn on the server.
    await page.getByRole("link", { name: "Số liệu" }).click();
    await page.getByRole("heading", { name: /Số liệu của trung tâm/ }).waitFor();
    assert.equal((await page.locator("#fig-decided").textContent()).trim(), "1");
    assert.ok(await page.locator("svg[role=img]").count() >= 2, "charts");
    await audit(page, "dashboard");
    await page.screenshot({ path: `${shots}/so-lieu.png`, fullPage: true });
  } else {
    throw new Error(`unknown phase ${phase}`);
  }
  // Sign out; the queue then sends back to the sign-in page.
  await page.getByRole("button", { name: "Đăng xuất" }).click();
  await page.waitForURL(`${base}/console/login`);
  await page.goto(`${base}/console/queue`);
  assert.equal(new URL(page.url()).pathname, "/console/login");
  assert.deepEqual(problems, [], "the browser reported errors (a CSP violation is one)");
  console.log(`phase ${phase}: ok`);
} finally {
  await browser.close();
}
