// tests/proxy/inspector.test.mjs: the inspector through nginx with TLS,
// in headless Chromium, as a user opens it at a sandbox's preview URL
// (https://preview.localhost:<port>/ui/?access_token=...; Chromium sends
// *.localhost to loopback). proxy.py --hold starts agentd and nginx.
// Run by tests/proxy/suite.sh with AGENTD_BIN and NODE_PATH (tests/ui's
// playwright-core).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(process.env.NODE_PATH + '/');
const { chromium } = require('playwright-core');
const HERE = dirname(fileURLToPath(import.meta.url));
const T = 15000;
let held, info, browser;

before(async () => {
	held = spawn('python3', [join(HERE, 'proxy.py'), '--agentd',
	    process.env.AGENTD_BIN, '--hold'], { stdio: ['pipe', 'pipe', 'inherit'] });
	const line = await new Promise((res, rej) => {
		createInterface({ input: held.stdout }).once('line', res);
		held.once('exit', c => rej(new Error('proxy.py exited ' + c)));
	});
	info = JSON.parse(line);
	browser = await chromium.launch({ executablePath: process.env.CHROMIUM ||
	    '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu',
	    '--disable-quic', '--no-first-run', '--disable-background-networking',
	    '--disable-component-update', '--disable-sync',
	    '--ignore-certificate-errors'] });
});

after(async () => {
	if (browser) await browser.close();
	if (held) {
		held.stdin.end();
		await new Promise(r => held.once('exit', r));
	}
});

test('the inspector streams a turn and answers a permission through nginx', async () => {
	const page = await browser.newPage();
	const problems = [];
	page.on('pageerror', e => problems.push(e.message));
	await page.goto(info.url + '/ui/?access_token=' + info.token);
	await page.locator('#agent option[value=mock]').waitFor({ state: 'attached', timeout: T });
	await page.selectOption('#agent', 'mock');
	await page.fill('#create input[name=id]', 'via-proxy');
	await page.click('#create button');
	await page.locator('#connl', { hasText: 'live' }).waitFor({ timeout: T });
	await page.fill('#msg', 'hello through the proxy');
	await page.press('#msg', 'Enter');
	await page.locator('.msg.assistant .text', { hasText: 'echo: hello through the proxy' })
	    .first().waitFor({ timeout: T });
	await page.fill('#msg', 'permission please');
	await page.press('#msg', 'Enter');
	const card = page.locator('.card.perm').last();
	await card.waitFor({ timeout: T });
	await card.locator('button', { hasText: 'Allow once' }).click();
	await page.locator('.msg.assistant .text', { hasText: 'permission granted' })
	    .first().waitFor({ timeout: T });
	assert.deepEqual(problems, []);
	await page.close();
});
