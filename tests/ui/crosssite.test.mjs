// tests/ui/crosssite.test.mjs: a web page on another origin attacks agentd
// through the user's browser (issue 13, item 1), in headless Chromium.
//
// The page, served from another port (another origin), tries what any page
// can do without a CORS preflight: fetch with text/plain (no-cors), a form
// post whose text/plain body is JSON, a WebSocket that sends a message, and
// an <img> whose source is a session's export (a GET that would pause the
// session's agent). It comes once more from a host name so long that its
// Origin does not fit agentd's buffer for it (a page once passed that way).
// agentd runs once without a token and once with one, and there the page
// even knows the token (?access_token=), so only the Origin check stands
// between it and the host. Nothing may happen: no session, no command run,
// no message, no open WebSocket.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as netServer } from 'node:net';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const BIN = process.env.AGENTD_BIN || 'build/agentd';
const TOKEN = 'xs-test-' + process.pid;
/* 4 labels of 60 and a domain: a valid name, an Origin of 263 bytes. */
const LONG_HOST = Array(4).fill('a'.repeat(60)).join('.') + '.evil.example';
const tmp = mkdtempSync(join(tmpdir(), 'agentd-xs-'));
let browser, evil, evilPort;
const daemons = [];

function freePort() {
	return new Promise((res, rej) => {
		const s = netServer();
		s.on('error', rej);
		s.listen(0, '127.0.0.1', () => {
			const p = s.address().port;
			s.close(() => res(p));
		});
	});
}

async function startAgentd(name, token) {
	const port = await freePort();
	const args = ['serve', '--host', '127.0.0.1', '--port', String(port),
	    '--data-dir', join(tmp, name)];
	if (token) args.push('--token', token);
	const p = spawn(BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
	const d = { p, port, token, log: '', base: `http://127.0.0.1:${port}` };
	p.stderr.on('data', b => { d.log += b; });
	daemons.push(d);
	for (let i = 0; i < 100; i++) {
		try {
			if ((await fetch(d.base + '/v1/health')).ok) return d;
		} catch (e) {}
		await new Promise(r => setTimeout(r, 100));
	}
	throw new Error('agentd did not come up:\n' + d.log);
}

function api(d, method, path, body) {
	const headers = { 'Content-Type': 'application/json' };
	if (d.token) headers.Authorization = 'Bearer ' + d.token;
	return fetch(d.base + path, { method, headers,
	    body: body === undefined ? undefined : JSON.stringify(body) });
}

/* The attacker's page: every request it makes reports into window.done. */
function evilPage(target, token, marker) {
	const q = token ? '?access_token=' + token : '';
	const pwn = JSON.stringify({ agent: 'acp',
	    agentCommand: ['sh', '-c', 'touch ' + marker] });
	const formName = pwn.slice(0, -1) + ',"x":"';
	return `<!doctype html><html><body>
<iframe name="sink"></iframe>
<img src="${target}/v1/sessions/own/export${q}">
<form id="f" method="POST" enctype="text/plain" target="sink"
 action="${target}/v1/sessions/form${q}">
<input name='${formName}' value='"}'></form>
<script>
window.done = {};
fetch('${target}/v1/sessions/nocors${q}', { method: 'POST', mode: 'no-cors',
    headers: { 'Content-Type': 'text/plain' }, body: ${JSON.stringify(pwn)} })
    .then(() => { window.done.fetch = 'sent'; },
        e => { window.done.fetch = 'failed'; });
fetch('${target}/v1/sessions/cors${q}', { method: 'POST',
    headers: { 'Content-Type': 'application/json' }, body: ${JSON.stringify(pwn)} })
    .then(r => { window.done.cors = 'answered ' + r.status; },
        e => { window.done.cors = 'blocked'; });
document.getElementById('f').submit();
window.done.form = 'submitted';
const ws = new WebSocket('${target.replace('http', 'ws')}/v1/sessions/own/events/ws${q}');
ws.onopen = () => {
	window.done.ws = 'open';
	ws.send(JSON.stringify({ type: 'message', message: 'from evil', id: 'e' }));
};
ws.onerror = () => { if (!window.done.ws) window.done.ws = 'refused'; };
ws.onclose = () => { if (!window.done.ws) window.done.ws = 'refused'; };
</script></body></html>`;
}

before(async () => {
	browser = await chromium.launch({ executablePath: process.env.CHROMIUM ||
	    '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu',
	    '--disable-quic', '--no-first-run', '--disable-background-networking',
	    '--disable-component-update', '--disable-sync',
	    `--host-resolver-rules=MAP ${LONG_HOST} 127.0.0.1`] });
	evilPort = await freePort();
	const pages = new Map();
	evil = createServer((req, res) => {
		const html = pages.get(req.url);
		res.writeHead(html ? 200 : 404, { 'Content-Type': 'text/html' });
		res.end(html || '');
	});
	evil.pages = pages;
	await new Promise(r => evil.listen(evilPort, '127.0.0.1', r));
});

after(async () => {
	if (browser) await browser.close();
	if (evil) evil.close();
	for (const d of daemons) d.p.kill('SIGTERM');
	rmSync(tmp, { recursive: true, force: true });
});

async function attack(name, token, host = '127.0.0.1') {
	const d = await startAgentd(name, token);
	assert.equal((await api(d, 'POST', '/v1/sessions/own', { agent: 'mock' })).status, 200);
	const own = await (await api(d, 'GET', '/v1/sessions/own')).json();
	const marker = join(tmp, name + '-pwned');
	evil.pages.set('/' + name, evilPage(d.base, token, marker));
	const page = await browser.newPage();
	await page.goto(`http://${host}:${evilPort}/${name}`);
	await page.waitForFunction(() => window.done && window.done.fetch &&
	    window.done.cors && window.done.ws, null, { timeout: 15000 });
	await new Promise(r => setTimeout(r, 1000));
	const done = await page.evaluate(() => window.done);
	await page.close();
	assert.notEqual(done.ws, 'open', 'the WebSocket from the other origin opened');
	assert.ok(!/answered 2/.test(done.cors), 'a CORS fetch was answered: ' + done.cors);
	assert.ok(!existsSync(marker), 'the page ran a command on the host');
	const list = await (await api(d, 'GET', '/v1/sessions')).json();
	assert.deepEqual(list.sessions.map(s => s.sessionId), ['own'],
	    'the page created a session');
	const now = await (await api(d, 'GET', '/v1/sessions/own')).json();
	assert.deepEqual([now.state, now.pid], [own.state, own.pid],
	    'the page paused or stopped the session\'s agent');
	const ev = await (await api(d, 'GET', '/v1/sessions/own/events')).json();
	assert.ok(!ev.events.some(e => e.type === 'item.started' &&
	    e.data.item.role === 'user'), 'the page sent a message');
	/* The requests did reach agentd, and were refused there. */
	assert.match(d.log, /refused/, 'agentd saw no refused request:\n' + d.log);
}

test('a page on another origin can do nothing without a token', async () => {
	await attack('open', null);
});

test('a page on another origin can do nothing even knowing the token', async () => {
	await attack('token', TOKEN);
});

test('a page on a very long host name can do nothing either', async () => {
	await attack('long', null, LONG_HOST);
});

/*
 * What the Sec-Fetch rule must still let through: a link on the product's
 * own site (another origin) that downloads a session's export. Chromium
 * sends such a click, download attribute or not, as a top-level
 * navigation (Sec-Fetch-Dest: document), which is served.
 */
test('a link on another site still downloads an export', async () => {
	const d = await startAgentd('link', TOKEN);
	assert.equal((await api(d, 'POST', '/v1/sessions/own', { agent: 'mock' })).status, 200);
	const href = `${d.base}/v1/sessions/own/export?access_token=${TOKEN}`;
	evil.pages.set('/link', `<!doctype html><html><body>
<a id="dl" href="${href}" download>the transcript</a></body></html>`);
	const ctx = await browser.newContext({ acceptDownloads: true });
	const page = await ctx.newPage();
	await page.goto(`http://localhost:${evilPort}/link`);
	const [dl] = await Promise.all([
		page.waitForEvent('download', { timeout: 15000 }),
		page.click('#dl'),
	]);
	const file = join(tmp, 'link-export.tar');
	await dl.saveAs(file);
	const failure = await dl.failure();
	await ctx.close();
	assert.equal(failure, null);
	const tar = readFileSync(file);
	/* ustar: the first member's name, then "ustar" at offset 257. */
	assert.equal(tar.subarray(257, 262).toString(), 'ustar',
	    'not an export: ' + tar.subarray(0, 200).toString());
	assert.ok(tar.includes('events.jsonl'), 'the export holds no events.jsonl');
	assert.doesNotMatch(d.log, /refused/, 'agentd refused the link:\n' + d.log);
});
