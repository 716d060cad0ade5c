// tests/ui/ui.test.mjs: the /ui/ inspector in headless Debian Chromium,
// driven with playwright-core against a real agentd and its mock agent.
// Run by tests/ui/suite.sh (make test-ui) with AGENTD_BIN, CHROMIUM and
// UI_SCREENSHOT in the environment. The tests run in order and share one
// agentd, one browser and one session.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';

const BIN = process.env.AGENTD_BIN || 'build/agentd';
const SHOT = process.env.UI_SCREENSHOT || 'build/ui-screenshot.png';
const TOKEN = 'ui-test-' + process.pid;
const T = 15000;	/* ms to wait for anything on the page */

const tmp = mkdtempSync(join(tmpdir(), 'agentd-ui-'));
let port, base, agentd, agentdLog = '', ctx, page;
const problems = [];	/* page errors, CSP violations */

function freePort() {
	return new Promise((res, rej) => {
		const s = createServer();
		s.on('error', rej);
		s.listen(0, '127.0.0.1', () => {
			const p = s.address().port;
			s.close(() => res(p));
		});
	});
}

async function startAgentd() {
	agentd = spawn(BIN, ['serve', '--host', '127.0.0.1', '--port', String(port),
	    '--token', TOKEN, '--data-dir', join(tmp, 'state')],
	    { stdio: ['ignore', 'ignore', 'pipe'] });
	agentd.stderr.on('data', d => { agentdLog += d; });
	for (let i = 0; i < 100; i++) {
		try {
			if ((await fetch(base + 'v1/health')).ok) return;
		} catch (e) {}
		await new Promise(r => setTimeout(r, 100));
	}
	throw new Error('agentd did not come up:\n' + agentdLog);
}

async function stopAgentd() {
	if (!agentd || agentd.exitCode !== null) return;
	const gone = new Promise(r => agentd.once('exit', r));
	agentd.kill('SIGTERM');
	await gone;
}

function watch(p) {
	p.on('pageerror', e => problems.push('page error: ' + e.message));
	p.on('console', m => {
		if (m.type() === 'error' && !/status of 401|ERR_CONNECTION_REFUSED/.test(m.text()))
			problems.push('console: ' + m.text());
	});
}

async function newPage() {
	const p = await ctx.newPage();
	await p.setViewportSize({ width: 1280, height: 860 });
	watch(p);
	return p;
}

/* Type a message in the composer and send it with Enter. */
async function send(text) {
	await page.fill('#msg', text);
	await page.press('#msg', 'Enter');
	await page.locator('.msg.user .text', { hasText: text }).last().waitFor({ timeout: T });
}
const seen = (sel, text) => page.locator(sel, text ? { hasText: text } : undefined)
    .first().waitFor({ timeout: T });

before(async () => {
	port = await freePort();
	base = `http://127.0.0.1:${port}/`;
	await startAgentd();
	ctx = await chromium.launchPersistentContext(join(tmp, 'profile'), {
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
		    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
	});
});

after(async () => {
	if (ctx) await ctx.close();
	await stopAgentd();
	rmSync(tmp, { recursive: true, force: true });
});

test('serves the page gzipped, without the token, and nothing else', async () => {
	let r = await fetch(base + 'ui/');
	assert.equal(r.status, 200);
	assert.equal(r.headers.get('content-encoding'), 'gzip');
	assert.match(r.headers.get('content-type'), /^text\/html/);
	assert.match(r.headers.get('cache-control'), /max-age=\d+/);
	assert.match(await r.text(), /<title>agentd inspector<\/title>/);
	r = await fetch(base + 'ui/app.js');
	assert.equal(r.status, 200);
	assert.match(r.headers.get('content-type'), /javascript/);
	assert.match(await r.text(), /EventSource/);
	for (const [f, type, re] of [['xterm.mjs', /javascript/, /@license MIT[\s\S]*export ?\{/],
	    ['addon-fit.mjs', /javascript/, /FitAddon/], ['xterm.css', /css/, /\.xterm-viewport/]]) {
		r = await fetch(base + 'ui/' + f);
		assert.equal(r.status, 200, f);
		assert.equal(r.headers.get('content-encoding'), 'gzip', f);
		assert.match(r.headers.get('content-type'), type, f);
		assert.match(await r.text(), re, f);
	}
	r = await fetch(base + 'ui');
	assert.equal(r.status, 200);
	assert.match(await r.text(), /url=ui\//);
	assert.equal((await fetch(base + 'ui/nope.js')).status, 404);
	assert.equal((await fetch(base + 'ui/a/b')).status, 404);
	assert.equal((await fetch(base + 'v1/sessions')).status, 401);
});

test('asks for the token when it has none, and retries a wrong one', async () => {
	const p = await newPage();
	await p.goto(base + 'ui');	/* no slash: sent on to ui/ */
	await p.waitForURL(/\/ui\/$/, { timeout: T });
	await p.locator('#tokdlg').waitFor({ state: 'visible', timeout: T });
	await p.fill('#tokin', 'wrong');
	await p.click('#tokdlg button[value=ok]');
	await p.locator('#tokwhy', { hasText: 'refused' }).waitFor({ timeout: T });
	await p.fill('#tokin', TOKEN);
	await p.click('#tokdlg button[value=ok]');
	await p.locator('#sessions li', { hasText: 'none yet' }).waitFor({ timeout: T });
	assert.equal(await p.locator('#tokdlg').isVisible(), false);
	await p.close();
});

test('creates a mock session through the form', async () => {
	page = await newPage();
	await page.goto(base + 'ui/?access_token=' + TOKEN);
	await page.locator('#agent option[value=mock]').waitFor({ state: 'attached', timeout: T });
	await page.selectOption('#agent', 'mock');
	await page.fill('#create input[name=id]', 'ui-demo');
	await page.fill('#create input[name=cwd]', tmp);
	await page.fill('#create input[name=permissionMode]', 'default');
	await page.click('#create button');
	await seen('#sessions li[data-id="ui-demo"]');
	await seen('#title', 'ui-demo');
	await seen('.note', 'session started');
	await page.locator('#connl', { hasText: 'live' }).waitFor({ timeout: T });
	assert.match(page.url(), /#ui-demo$/);
});

test('sends a message and sees the reply stream in', async () => {
	await send('hello from the browser');
	await seen('.msg.assistant .text', 'echo: hello from the browser');
	await seen('.reason', 'The user wants an echo');
	await seen('.turn', 'end_turn');
	await seen('.turn', '$0.0001');
});

test('shows a tool call with its input and output', async () => {
	await send('tool');
	await seen('.tool .tn', 'echo');
	await seen('.tool .ta', 'echo hi');
	await seen('.tool .to', 'hi');
	await page.locator('.tool summary', { hasText: 'echo' }).first().click();
	await seen('.tool .body pre', '"command": "echo hi"');
	await seen('.msg.assistant .text', 'the command printed hi');
});

test('answers a permission with Allow once', async () => {
	await send('permission please');
	const card = page.locator('.card.perm').last();
	await card.waitFor({ timeout: T });
	await card.locator('button', { hasText: 'Allow once' }).click();
	await card.locator('.cs', { hasText: 'Allowed once' }).waitFor({ timeout: T });
	assert.equal(await card.locator('button').count(), 0);
	await seen('.msg.assistant .text', 'permission granted');
	await seen('.file .fp', 'write mock.txt');
	await seen('.diff .a', '+mock');
});

test('answers a question with an option button', async () => {
	await send('question');
	const card = page.locator('.card.question').last();
	await card.waitFor({ timeout: T });
	await card.locator('.q', { hasText: 'Which color?' }).waitFor({ timeout: T });
	await card.locator('button.opt', { hasText: 'Blue' }).click();
	await card.locator('.cs', { hasText: 'Answered: Blue' }).waitFor({ timeout: T });
	await seen('.msg.assistant .text', 'you chose Blue');
	await page.locator('.turn.end').nth(3).waitFor({ timeout: T });
	await seen('#state .badge', 'ready');
	mkdirSync(dirname(SHOT), { recursive: true });
	await page.screenshot({ path: SHOT });
});

test('shows an agent error in red', async () => {
	await send('error please');
	await seen('.err', 'mock agent error');
	const red = await page.locator('.err').first().evaluate(e => getComputedStyle(e).color);
	assert.equal(red, 'rgb(185, 28, 28)');
});

test('resumes the stream after agentd restarts, losing and repeating nothing', async () => {
	await stopAgentd();
	await page.locator('#connl', { hasText: 'reconnecting' }).waitFor({ timeout: T });
	await startAgentd();
	await page.locator('#connl', { hasText: 'live' }).waitFor({ timeout: T });
	await send('after the restart');
	await seen('.msg.assistant .text', 'echo: after the restart');
	await page.locator('.turn.end').nth(5).waitFor({ timeout: T });
	const r = await fetch(base + 'v1/sessions/ui-demo/events?limit=10000',
	    { headers: { Authorization: 'Bearer ' + TOKEN } });
	const events = (await r.json()).events;
	const count = t => events.filter(e => e.type === t).length;
	const users = events.filter(e => e.type === 'item.completed' &&
	    e.data.item.role === 'user').length;
	assert.equal(await page.locator('.msg.user').count(), users);
	assert.equal(await page.locator('.turn.end').count(), count('turn.ended'));
	assert.equal(await page.locator('.turn:not(.end)').count(), count('turn.started'));
});

test('cancels a slow turn, then terminates the session', async () => {
	await send('slow');
	await page.locator('#cancel:not([disabled])').waitFor({ timeout: T });
	await page.click('#cancel');
	await seen('.turn.end', 'cancelled');
	await page.locator('#terminate:not([disabled])').waitFor({ timeout: T });
	await page.click('#terminate');
	await seen('.note, .err', 'session ended');
	await page.locator('#msg[disabled]').waitFor({ timeout: T });
	await seen('#sessions li[data-id="ui-demo"] .badge', 'ended');
});

test('Files: uploads a file, lists it, downloads the same bytes, walks folders', async () => {
	const dir = join(tmp, 'files');
	mkdirSync(join(dir, 'sub'), { recursive: true });
	/* Every byte value, then random ones: no text or encoding step may touch them. */
	const bytes = Buffer.concat([Buffer.from([...Array(256).keys()]), randomBytes(200000)]);
	/* The first listing (of HOME, as the tab opens) answers while a path
	 * is being typed: it may not replace what was typed. */
	let typed, hit = 0;
	const held = new Promise(res => { typed = res; }), home = /\/v1\/fs\/stat\?path=\.$/;
	await page.route(home, async r => { hit++; await held; await r.continue(); });
	await page.click('#tabs button[data-view=files]');
	await page.fill('#fspath', dir);
	typed();
	await page.locator('#fslist tbody tr').first().waitFor({ timeout: T });
	await page.unroute(home);
	assert.equal(hit, 1, 'the first listing was held');
	assert.equal(await page.inputValue('#fspath'), dir, 'the typed path');
	await page.press('#fspath', 'Enter');
	await seen('#fslist tr.dir', 'sub/');
	assert.equal(await page.inputValue('#fspath'), dir);
	await page.setInputFiles('#fsfile', { name: 'up load.bin', mimeType: 'application/octet-stream', buffer: bytes });
	const row = page.locator('#fslist tr[data-name="up load.bin"]');
	await row.waitFor({ timeout: T });
	assert.ok(readFileSync(join(dir, 'up load.bin')).equals(bytes), 'the file on disk');
	assert.match(await row.textContent(), /196 KiB/);
	const [dl] = await Promise.all([page.waitForEvent('download', { timeout: T }),
	    row.locator('button.dl').click()]);
	assert.equal(dl.suggestedFilename(), 'up load.bin');
	assert.ok(readFileSync(await dl.path()).equals(bytes), 'the downloaded bytes');
	await page.click('#fslist a:text-is("sub/")');
	await page.waitForFunction(d => document.querySelector('#fspath').value === d, dir + '/sub', { timeout: T });
	await seen('#fslist td', 'empty');
	await page.click('#fsup');
	await page.waitForFunction(d => document.querySelector('#fspath').value === d, dir, { timeout: T });
	await row.waitFor({ timeout: T });
});

/* The terminal's rows as text, one string a row. */
const rows = () => page.$$eval('#tbox .xterm-rows > div',
    ds => ds.map(d => d.textContent.replace(/\u00a0/g, ' ').trimEnd()));
async function rowSeen(re) {
	for (let i = 0; i < T / 100; i++) {
		const r = await rows();
		if (r.some(l => re.test(l))) return r;
		await new Promise(res => setTimeout(res, 100));
	}
	assert.fail('no terminal row matches ' + re + ':\n' + (await rows()).join('\n'));
}
async function typeLine(text) {
	await page.click('#tbox .xterm-screen');
	await page.keyboard.type(text);
	await page.keyboard.press('Enter');
}
const geometry = async () => (await page.textContent('#tsize')).split('\u00d7').map(Number);

test('Terminal: bash on a pty, typed into and read back', async () => {
	await page.click('#tabs button[data-view=term]');
	await seen('#tstate', 'bash');
	await typeLine('echo hi');
	await rowSeen(/^hi$/);
	/* A true colour is a style attribute to xterm: the CSP shim must apply it. */
	await typeLine("printf '\\e[38;2;255;0;0mRED\\e[0m\\n'");
	await rowSeen(/^RED$/);
	const red = await page.$$eval('#tbox .xterm-rows span', ss => ss.filter(s => s.textContent === 'RED')
	    .map(s => getComputedStyle(s).color));
	assert.deepEqual(red, ['rgb(255, 0, 0)']);
	/* Fitted to its box at once: not the pty's 80x24. */
	const [cols, rows] = await geometry();
	assert.ok(cols > 80 && rows > 24, cols + 'x' + rows);
	await typeLine('stty size');
	await rowSeen(new RegExp('^' + rows + ' ' + cols + '$'));
});

test('Terminal: a smaller page resizes the pty', async () => {
	const [c0, r0] = await geometry();
	await page.setViewportSize({ width: 900, height: 560 });
	await page.waitForFunction(g => document.querySelector('#tsize').textContent !== g,
	    c0 + '\u00d7' + r0, { timeout: T });
	const [cols, rows] = await geometry();
	assert.ok(cols < c0 && rows < r0, `${c0}x${r0} -> ${cols}x${rows}`);
	await typeLine('clear; stty size');
	await rowSeen(new RegExp('^' + rows + ' ' + cols + '$'));
	mkdirSync(dirname(SHOT), { recursive: true });
	await page.screenshot({ path: SHOT.replace(/\.png$/, '-terminal.png') });
	await page.setViewportSize({ width: 1280, height: 860 });
});

test('Terminal: leaving the page stops its shell', async () => {
	const id = (await page.textContent('#tstate')).match(/process (\S+)/)[1];
	const info = async () => (await fetch(base + 'v1/processes/' + id,
	    { headers: { Authorization: 'Bearer ' + TOKEN } })).json();
	assert.equal((await info()).status, 'running');
	await page.reload();
	await seen('#sessions li[data-id="ui-demo"]');
	for (let i = 0; i < T / 100 && (await info()).status === 'running'; i++)
		await new Promise(r => setTimeout(r, 100));
	assert.equal((await info()).status, 'exited');
});

test('the page raised no error and broke no Content-Security-Policy rule', () => {
	assert.deepEqual(problems, []);
});
