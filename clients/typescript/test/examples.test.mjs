// examples/web/follow.html in headless Chromium (playwright-core from
// TS_CLIENT_NPM_DIR, installed by run.sh; Debian's chromium, or CHROMIUM):
// the page is served by a static server on another port, the origin agentd
// is told to allow with --cors-origin, and follows a session with
// EventSource through a turn, a kill -9 and restart of agentd, and a
// second turn, showing each event once. Skipped without Chromium or
// playwright-core.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";
import { AgentdClient } from "../dist/index.js";
import { Agentd, TOKEN, freePort, sleep } from "./agentd.mjs";

const TOP = new URL("../../..", import.meta.url).pathname;
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const T = { timeout: 60000 };

function playwright() {
	const dir = process.env.TS_CLIENT_NPM_DIR;
	if (!dir || !existsSync(CHROMIUM))
		return undefined;
	try {
		return createRequire(join(dir, "package.json"))("playwright-core");
	} catch {
		return undefined;
	}
}
const pw = playwright();
const skip = pw ? false : `no ${existsSync(CHROMIUM) ? "playwright-core" :
    CHROMIUM}`;

let agentd, client, web, webPort, browser;

before(async () => {
	if (skip)
		return;
	webPort = await freePort();
	const page = readFileSync(join(TOP, "examples/web/follow.html"));
	web = createServer((req, res) => {
		if (req.url.split("?")[0] !== "/follow.html") {
			res.writeHead(404).end();
			return;
		}
		res.writeHead(200, { "Content-Type": "text/html" }).end(page);
	});
	await new Promise((r) => web.listen(webPort, "127.0.0.1", r));
	agentd = await Agentd.start(["--cors-origin",
	    `http://127.0.0.1:${webPort}`]);
	client = new AgentdClient({ baseUrl: agentd.base, token: TOKEN });
	browser = await pw.chromium.launch({ executablePath: CHROMIUM,
	    headless: true, args: ["--no-sandbox", "--disable-gpu",
	    "--no-first-run", "--disable-background-networking"] });
});
after(async () => {
	await browser?.close();
	await agentd?.stop();
	web?.close();
});

test("examples/web/follow.html follows a session across a restart",
    { ...T, skip }, async () => {
	const s = await client.startSession({ agent: "mock" });
	const page = await browser.newPage();
	const problems = [];
	page.on("pageerror", (e) => problems.push(e.message));
	await page.goto(`http://127.0.0.1:${webPort}/follow.html#agentd=` +
	    `${encodeURIComponent(agentd.base)}&session=${s.id}&token=${TOKEN}`);
	await page.locator("#status", { hasText: `following ${s.id}` })
	    .waitFor({ timeout: 15000 });
	await s.send("hello page");
	await page.locator(".assistant", { hasText: "echo: hello page" })
	    .waitFor({ timeout: 15000 });
	await page.locator(".turn", { hasText: "turn ended: end_turn" })
	    .waitFor({ timeout: 15000 });

	// A slow turn, agentd killed in the middle and started again.
	await s.send("slow");
	await page.waitForFunction(() => document.querySelectorAll(
	    ".assistant")[1]?.textContent.length > 300, null,
	    { timeout: 15000 });
	await agentd.kill();
	await sleep(300);
	await agentd.up();
	await page.locator(".turn", { hasText: "turn ended: interrupted" })
	    .waitFor({ timeout: 15000 });
	await s.send("after the restart");
	await page.locator(".assistant", { hasText: "echo: after the restart" })
	    .waitFor({ timeout: 15000 });
	await page.locator(".turn", { hasText: "turn ended: end_turn" })
	    .nth(1).waitFor({ timeout: 15000 });

	const shown = await page.evaluate(() => window.followed);
	const log = (await s.eventsSince(0)).events;
	assert.deepEqual(shown, log.map((e) => e.sequence).slice(0,
	    shown.length), "the page skipped or repeated an event");
	assert.equal(shown.at(-1), log.at(-1).sequence);
	assert.equal(await page.locator(".user").count(), 3);
	assert.deepEqual(problems, []);
	await page.close();
	await s.delete();
});

test("the page says what it needs without a session", { ...T, skip },
    async () => {
	const page = await browser.newPage();
	await page.goto(`http://127.0.0.1:${webPort}/follow.html`);
	await page.locator("#status", { hasText: "#agentd=URL&session=ID" })
	    .waitFor({ timeout: 15000 });
	await page.close();
});
